//go:build !nodevstack

package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Restart policy of the supervised gateway: a gateway that exits by itself
// is started again on the same port and object root after a backoff that
// doubles from restartBackoff up to maxRestartBackoff; a gateway that ran
// less than quickExit counts as a quick failure, and after
// maxQuickFailures of them in a row the stack gives up (Stack.Done).
const (
	restartBackoff    = 200 * time.Millisecond
	maxRestartBackoff = 5 * time.Second
	quickExit         = 30 * time.Second
	maxQuickFailures  = 5
)

// supervisor keeps an owned stack's gateway running: it restarts it when
// it exits by itself (killed, crashed) on the same port, with the same
// keys and objects, and gives up after repeated quick failures.
type supervisor struct {
	bin, root string
	creds     credentials
	bucket    string
	port      int
	log       *slog.Logger
	restarted func(g *gateway) // records the new gateway (stack.json)

	mu       sync.Mutex
	cur      *gateway
	stopped  bool
	stopping chan struct{} // closed by stop
	failed   chan struct{} // closed when the supervisor gives up
	err      error         // why it gave up
}

func newSupervisor(g *gateway, bin, root string, creds credentials, bucket string, log *slog.Logger, restarted func(*gateway)) *supervisor {
	return &supervisor{bin: bin, root: root, creds: creds, bucket: bucket, port: portOf(g.endpoint), log: log,
		restarted: restarted, cur: g, stopping: make(chan struct{}), failed: make(chan struct{})}
}

// run watches the gateway until stop is called or it gives up.
func (s *supervisor) run() {
	started := time.Now()
	quick := 0
	for {
		g := s.current()
		select {
		case <-s.stopping:
			return
		case <-g.exited:
		}
		if s.isStopping() {
			return
		}
		last := fmt.Errorf("versitygw on %s exited (%s): %s", g.endpoint, g.cmd.ProcessState, lastLine(g.stderr.String()))
		for {
			if time.Since(started) < quickExit {
				quick++
			} else {
				quick = 1
			}
			if quick > maxQuickFailures {
				s.giveUp(fmt.Errorf("devstack: the S3 gateway failed %d times in a row within %s of starting, giving up (last: %s) — check %s and run the command again",
					maxQuickFailures, quickExit, oneLine(last.Error()), s.root))
				return
			}
			delay := min(restartBackoff<<(quick-1), maxRestartBackoff)
			s.log.Warn("devstack: the S3 gateway stopped; restarting it on the same port and objects", "endpoint", g.endpoint,
				"reason", oneLine(last.Error()), "in", delay)
			select {
			case <-s.stopping:
				return
			case <-time.After(delay):
			}
			started = time.Now()
			ng, err := s.launch()
			if err != nil {
				last = err
				continue
			}
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				ng.stop()
				return
			}
			s.cur = ng
			s.mu.Unlock()
			s.restarted(ng)
			s.log.Warn("devstack: the S3 gateway is back", "endpoint", ng.endpoint, "pid", ng.pid())
			break
		}
	}
}

// launch starts a gateway on the supervisor's port and checks its bucket.
func (s *supervisor) launch() (*gateway, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := launchGateway(ctx, s.bin, s.root, s.creds, s.port, s.log)
	if err != nil {
		return nil, err
	}
	// A gateway that exits while its bucket is checked (another process
	// answered on the port meanwhile) fails the check at once.
	go func() {
		select {
		case <-g.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := g.ensureBucket(ctx, s.creds, s.bucket); err != nil {
		g.stop()
		if strings.Contains(g.stderr.String(), "address already in use") {
			return nil, fmt.Errorf("port %d is taken by another process", s.port)
		}
		return nil, err
	}
	return g, nil
}

func (s *supervisor) current() *gateway {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *supervisor) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

func (s *supervisor) giveUp(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.failed)
}

// failure returns why the supervisor gave up, or nil.
func (s *supervisor) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// stop stops supervising and stops the current gateway.
func (s *supervisor) stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.stopping)
	g := s.cur
	s.mu.Unlock()
	g.stop()
}

// oneLine joins the lines of s with "; ".
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", " ; ")), " ")
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
