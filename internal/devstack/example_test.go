package devstack_test

import (
	"context"
	"fmt"
	"log"

	"rulescape/internal/devstack"
)

// Start the stack on the default home ($RULESCAPE_HOME or ~/.rulescape),
// use it, and stop it. A second process doing the same attaches.
func ExampleStart() {
	st, err := devstack.Start(context.Background(), devstack.Options{UI: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Stop()
	fmt.Println("Temporal:", st.TemporalAddress, "namespace", st.Namespace)
	fmt.Println("S3:", st.S3Endpoint, "bucket", st.S3Bucket)
}

func ExampleStack_Env() {
	st := &devstack.Stack{
		TemporalAddress: "127.0.0.1:7233", Namespace: "default",
		S3Endpoint: "127.0.0.1:7070", S3AccessKey: "ak", S3SecretKey: "sk", S3Bucket: "rulescape",
	}
	for _, kv := range st.Env() {
		fmt.Println(kv)
	}
	// Output:
	// TEMPORAL_ADDRESS=127.0.0.1:7233
	// TEMPORAL_NAMESPACE=default
	// RULESCAPE_S3_ENDPOINT=127.0.0.1:7070
	// RULESCAPE_S3_ACCESS_KEY=ak
	// RULESCAPE_S3_SECRET_KEY=sk
	// RULESCAPE_S3_BUCKET=rulescape
}
