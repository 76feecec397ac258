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
	fail      func(error)      // gives the stack up (Stack.Done)

	mu       sync.Mutex
	cur      *gateway
	stopped  bool
	stopping chan struct{} // closed by stop
}

func newSupervisor(g *gateway, bin, root string, creds credentials, bucket string, log *slog.Logger,
	restarted func(*gateway), fail func(error)) *supervisor {
	return &supervisor{bin: bin, root: root, creds: creds, bucket: bucket, port: portOf(g.endpoint), log: log,
		restarted: restarted, fail: fail, cur: g, stopping: make(chan struct{})}
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
				s.fail(fmt.Errorf("devstack: the S3 gateway failed %d times in a row within %s of starting, giving up (last: %s) — check %s and run the command again",
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

// loss is how an owned stack is given up: the first fail closes done and
// records why.
type loss struct {
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newLoss() *loss { return &loss{done: make(chan struct{})} }

func (l *loss) fail(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.done)
	})
}

func (l *loss) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Watchdog of the in-process Temporal server: its frontend is asked to
// describe the namespace every healthEvery; after unhealthyChecks failures
// in a row the server is stopped and started again on the same frontend
// and HTTP ports and the same database. maxTemporalRestarts restarts that
// fail in a row give the stack up.
const (
	healthEvery         = 5 * time.Second
	healthTimeout       = 5 * time.Second
	unhealthyChecks     = 4 // ≥ 20 s: a busy machine's slow answers are no reason to restart
	maxTemporalRestarts = 3
)

// temporalWatch keeps an owned stack's Temporal server answering.
type temporalWatch struct {
	store temporalStore
	ns    string
	log   *slog.Logger
	fail  func(error)

	mu       sync.Mutex
	cur      *temporalServer
	stopped  bool
	stopping chan struct{}
}

func newTemporalWatch(ts *temporalServer, store temporalStore, ns string, log *slog.Logger, fail func(error)) *temporalWatch {
	return &temporalWatch{store: store, ns: ns, log: log, fail: fail, cur: ts, stopping: make(chan struct{})}
}

// run checks the server until stop is called or it gives up.
func (w *temporalWatch) run() {
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	bad, failedRestarts := 0, 0
	for {
		select {
		case <-w.stopping:
			return
		case <-t.C:
		}
		cur := w.current()
		ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
		err := describeNamespace(ctx, cur.frontend, w.ns, w.log)
		cancel()
		if err == nil {
			bad = 0
			continue
		}
		if bad++; bad < unhealthyChecks {
			continue
		}
		w.log.Warn("devstack: the Temporal server does not answer; restarting it on the same ports and database",
			"address", cur.frontend, "reason", oneLine(err.Error()))
		if err := w.restart(cur); err != nil {
			if failedRestarts++; failedRestarts >= maxTemporalRestarts {
				w.fail(fmt.Errorf("devstack: the Temporal server on %s stopped answering and %d restarts failed (last: %s) — run the command again",
					cur.frontend, failedRestarts, oneLine(err.Error())))
				return
			}
			w.log.Warn("devstack: restarting the Temporal server failed; trying again", "error", oneLine(err.Error()))
			continue
		}
		bad, failedRestarts = 0, 0
		w.log.Warn("devstack: the Temporal server is back", "address", w.current().frontend)
	}
}

// restart replaces old by a new server on its frontend and HTTP ports.
func (w *temporalWatch) restart(old *temporalServer) error {
	if w.isStopping() {
		return nil
	}
	_ = old.stop()
	ts, err := startTemporal(w.store, w.ns, temporalPorts{frontend: portOf(old.frontend), http: portOf(old.http)}, w.log)
	if err != nil {
		return err
	}
	if ts.frontend != old.frontend || ts.http != old.http {
		_ = ts.stop()
		return fmt.Errorf("its ports %s and %s are taken by another process", old.frontend, old.http)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitNamespace(ctx, ts.frontend, w.ns, w.log); err != nil {
		_ = ts.stop()
		return err
	}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		_ = ts.stop()
		return nil
	}
	w.cur = ts
	w.mu.Unlock()
	return nil
}

func (w *temporalWatch) current() *temporalServer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

func (w *temporalWatch) isStopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// stop stops watching and stops the current server.
func (w *temporalWatch) stop() error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return nil
	}
	w.stopped = true
	close(w.stopping)
	ts := w.cur
	w.mu.Unlock()
	return ts.stop()
}
