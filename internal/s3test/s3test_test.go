package s3test

import (
	"net/http"
	"os"
	"testing"
)

func TestStartRestartStop(t *testing.T) {
	s := Start(t)
	get := func() (int, error) {
		resp, err := http.Get("http://" + s.Endpoint + "/")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != http.StatusForbidden {
		t.Fatalf("unsigned GET / = %d, %v; want 403 from a running gateway", code, err)
	}
	s.Kill()
	if _, err := get(); err == nil {
		t.Fatal("gateway still answers after Kill")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if code, err := get(); err != nil || code != http.StatusForbidden {
		t.Fatalf("after Restart: %d, %v", code, err)
	}
	dir := s.Dir
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (%v)", dir, err)
	}
}
