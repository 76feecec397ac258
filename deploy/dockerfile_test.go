package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	line int    // first line, 1-based
	cmd  string // upper case: FROM, RUN, …
	args string
}

// stage is the instructions from one FROM up to the next.
type stage struct {
	image, name string // FROM image [AS name]
	from        instruction
	body        []instruction
}

// parseDockerfile splits a Dockerfile into instructions and stages. It knows
// comments, blank lines and backslash continuations: enough for this
// repository's Dockerfile, not for heredocs or a custom escape character.
func parseDockerfile(t *testing.T, path string) (pre []instruction, stages []stage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ins []instruction
	var cur *instruction
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur == nil) {
			continue
		}
		cont := strings.HasSuffix(line, "\\")
		line = strings.TrimSpace(strings.TrimSuffix(line, "\\"))
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			cur = &instruction{line: n, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		} else if line != "" {
			cur.args += " " + line
		}
		if !cont {
			ins = append(ins, *cur)
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("Dockerfile:%d: %s: continuation at end of file", cur.line, cur.cmd)
	}
	for _, in := range ins {
		if in.cmd == "FROM" {
			st := stage{from: in}
			var words []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") { // --platform=…
					words = append(words, w)
				}
			}
			if len(words) > 0 {
				st.image = words[0]
			}
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				st.name = words[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			pre = append(pre, in)
		} else {
			stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
		}
	}
	return pre, stages
}

// execForm decodes a JSON-array (exec form) argument such as ["/rulescape"].
func execForm(args string) ([]string, bool) {
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		return nil, false
	}
	return v, true
}

func TestDockerfile(t *testing.T) {
	pre, stages := parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a runtime stage", len(stages))
	}
	for _, in := range pre {
		if in.cmd == "ARG" {
			t.Errorf("Dockerfile:%d: ARG before the first FROM: base images must be written out, not parameterised", in.line)
		}
	}

	// Every base image is pinned, except a reference to an earlier stage.
	var names []string
	for _, st := range stages {
		if !slices.Contains(names, st.image) {
			if strings.Contains(st.image, "$") {
				t.Errorf("Dockerfile:%d: FROM %s: write the image out, not a variable", st.from.line, st.image)
			} else if err := checkPinned(st.image); err != nil {
				t.Errorf("Dockerfile:%d: FROM: %v", st.from.line, err)
			}
		}
		if st.name != "" {
			names = append(names, st.name)
		}
	}

	// The build stage compiles ./cmd/rulescape with the TAGS build argument.
	build := stages[0]
	if !strings.HasPrefix(build.image, "golang:") {
		t.Errorf("Dockerfile:%d: FROM %s: want a golang:<version> build stage", build.from.line, build.image)
	}
	var args, runs []string
	for _, in := range build.body {
		switch in.cmd {
		case "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			args = append(args, name)
		case "RUN":
			runs = append(runs, in.args)
		}
	}
	if !slices.Contains(args, "TAGS") {
		t.Errorf("Dockerfile: build stage: no ARG TAGS; docker-compose.yml passes the worker's build tags in it")
	}
	i := slices.IndexFunc(runs, func(r string) bool { return strings.Contains(r, "go build") })
	if i < 0 {
		t.Fatalf("Dockerfile: build stage: no RUN … go build")
	}
	goBuild := runs[i]
	for _, want := range []string{"-trimpath", "-ldflags=-s", `-tags "$TAGS"`, "-o /rulescape", "./cmd/rulescape",
		"--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("Dockerfile: build stage: go build command lacks %q: %s", want, goBuild)
		}
	}

	// The runtime stage runs /rulescape as a non-root user, worker by default.
	final := stages[len(stages)-1]
	var user, entrypoint, cmd *instruction
	copied := false
	for i, in := range final.body {
		switch in.cmd {
		case "USER":
			user = &final.body[i]
		case "ENTRYPOINT":
			entrypoint = &final.body[i]
		case "CMD":
			cmd = &final.body[i]
		case "COPY":
			copied = copied || strings.Contains(in.args, "--from="+build.name) && strings.Contains(in.args, "/rulescape")
		}
	}
	if !copied {
		t.Errorf("Dockerfile: runtime stage: no COPY --from=%s of /rulescape", build.name)
	}
	if user == nil {
		t.Errorf("Dockerfile: runtime stage: no USER; the container would run as root")
	} else if u, _, _ := strings.Cut(user.args, ":"); u == "root" || u == "0" || u == "" {
		t.Errorf("Dockerfile:%d: USER %s: want a non-root user", user.line, user.args)
	}
	if entrypoint == nil {
		t.Errorf("Dockerfile: runtime stage: no ENTRYPOINT")
	} else if v, ok := execForm(entrypoint.args); !ok || !slices.Equal(v, []string{"/rulescape"}) {
		t.Errorf("Dockerfile:%d: ENTRYPOINT %s, want [\"/rulescape\"] (exec form, so signals reach the binary)", entrypoint.line, entrypoint.args)
	}
	if cmd == nil {
		t.Errorf("Dockerfile: runtime stage: no CMD")
	} else if v, ok := execForm(cmd.args); !ok || !slices.Equal(v, []string{"worker"}) {
		t.Errorf("Dockerfile:%d: CMD %s, want [\"worker\"]", cmd.line, cmd.args)
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimPrefix(line, "/"))
		}
	}
	if !slices.Contains(patterns, ".git") {
		t.Errorf(".dockerignore: want .git excluded (large, and changes with every commit)")
	}
	// The build needs these; a pattern matching one of them or a parent
	// directory would drop it from the build context.
	for _, need := range []string{"go.mod", "go.sum", "cmd/rulescape/main.go", "core/rnn", "store/store.go"} {
		for p := need; p != "."; p = filepath.Dir(p) {
			for _, pat := range patterns {
				if ok, _ := filepath.Match(pat, p); ok && !strings.HasPrefix(pat, "!") {
					t.Errorf(".dockerignore: pattern %q excludes %s, which the build needs", pat, p)
				}
			}
		}
	}
}
