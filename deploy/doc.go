// Package deploy holds no code: its tests check the repository's deployment
// files, which no Docker engine runs here.
//
// compose_test.go loads docker-compose.yml with the official Compose loader
// (github.com/compose-spec/compose-go/v2), which validates it against the
// Compose specification's JSON schema and interpolates ${VAR:-default}
// variables as `docker compose` does, and then checks what the stack relies
// on: the services, images pinned by tag, published ports, named volumes,
// health checks, start-up order (depends_on conditions), the environment the
// worker reads, and that the credentials and names given to the different
// services agree. dockerfile_test.go checks the Dockerfile line by line: base
// images pinned, the build command and its TAGS argument, a non-root final
// stage and its entry point.
//
// Run them with
//
//	go test ./deploy/
//
// docs/DEPLOY.md describes the stack.
package deploy
