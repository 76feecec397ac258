//go:build !nodevstack

package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Start brings up the embedded stack on opts.Home, or attaches to the one
// another process is running there. It returns once the Temporal namespace
// can be described and the S3 bucket exists. Stop the returned stack when
// done; the services live as long as the owning process.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Home, 0o700); err != nil {
		return nil, fmt.Errorf("devstack: create state directory: %w", err)
	}
	lock, err := acquireOrAttach(ctx, opts)
	if err != nil {
		return nil, err
	}
	if lock.attached != nil {
		return lock.attached, nil
	}
	st, err := startOwned(ctx, opts, lock.lock)
	if err != nil {
		lock.lock.release()
		return nil, err
	}
	return st, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Home == "" {
		h, err := DefaultHome()
		if err != nil {
			return o, err
		}
		o.Home = h
	}
	h, err := filepath.Abs(o.Home)
	if err != nil {
		return o, fmt.Errorf("devstack: state directory %q: %w", o.Home, err)
	}
	o.Home = h
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.AttachWait <= 0 {
		o.AttachWait = defaultAttachWait
	}
	if o.Postgres == "" {
		o.Postgres = os.Getenv(EnvTemporalPostgres)
	}
	if o.Postgres != "" {
		if _, err := parsePostgresURL(o.Postgres); err != nil {
			return o, err
		}
	}
	return o, nil
}

// temporalStore is where the server of an owned stack keeps its state:
// Postgres when set, else the SQLite file in Home.
func (o Options) temporalStore() (temporalStore, error) {
	if o.Postgres == "" {
		return temporalStore{sqlite: filepath.Join(o.Home, dbFile)}, nil
	}
	p, err := parsePostgresURL(o.Postgres)
	if err != nil {
		return temporalStore{}, err
	}
	return temporalStore{postgres: p}, nil
}

// lockOrStack is what acquireOrAttach found: the home's lock, or the
// stack of the process holding it.
type lockOrStack struct {
	lock     *homeLock
	attached *Stack
}

// acquireOrAttach takes the home's lock or, while another process holds
// it, waits (up to opts.AttachWait) until that process's stack answers and
// returns it. If the holder exits meanwhile, the lock is taken after all.
func acquireOrAttach(ctx context.Context, opts Options) (lockOrStack, error) {
	deadline := time.Now().Add(opts.AttachWait)
	logged := false
	var lastErr error
	for {
		l, err := tryLock(opts.Home)
		if err != nil {
			return lockOrStack{}, err
		}
		if l != nil {
			return lockOrStack{lock: l}, nil
		}
		st, err := attach(ctx, opts)
		if err == nil {
			opts.Logger.Info("devstack: attached to the running stack", "home", opts.Home, "owner_pid", st.OwnerPID)
			return lockOrStack{attached: st}, nil
		}
		lastErr = err
		if !logged {
			opts.Logger.Info("devstack: another process holds the stack lock; waiting for its stack", "home", opts.Home, "reason", err)
			logged = true
		}
		if time.Now().After(deadline) {
			return lockOrStack{}, fmt.Errorf("devstack: another process holds %s but its stack did not answer within %s (%v) — stop that process (its pid is in %s) or use another %s",
				filepath.Join(opts.Home, lockFile), opts.AttachWait, lastErr, filepath.Join(opts.Home, stackFile), EnvHome)
		}
		select {
		case <-ctx.Done():
			return lockOrStack{}, fmt.Errorf("devstack: waiting for the stack of another process on %s: %w", opts.Home, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// attach returns the stack described by stack.json if its owner is alive
// and its services answer.
func attach(ctx context.Context, opts Options) (*Stack, error) {
	info, err := readStackInfo(opts.Home)
	if err != nil {
		return nil, err
	}
	if info == nil || info.PID <= 0 || !info.StoppedAt.IsZero() {
		return nil, errors.New("the owner has not written its addresses yet")
	}
	if err := syscall.Kill(info.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil, fmt.Errorf("owner pid %d is gone", info.PID)
	}
	// Only read: the owner created the keys before it wrote stack.json.
	creds, err := readCredentials(opts.Home)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := describeNamespace(cctx, info.TemporalAddress, info.Namespace, opts.Logger); err != nil {
		return nil, fmt.Errorf("Temporal on %s: %w", info.TemporalAddress, err)
	}
	g := &gateway{endpoint: info.S3Endpoint, stderr: &tailBuffer{max: 1}}
	if err := g.ensureBucket(cctx, creds, opts.Bucket); err != nil {
		return nil, err
	}
	l, err := takeLease(opts.Home)
	if err != nil {
		return nil, err
	}
	st := &Stack{
		TemporalAddress: info.TemporalAddress,
		Namespace:       info.Namespace,
		UIAddress:       info.UI,
		S3Endpoint:      info.S3Endpoint,
		S3AccessKey:     creds.AccessKey,
		S3SecretKey:     creds.SecretKey,
		S3Bucket:        opts.Bucket,
		Home:            opts.Home,
		Attached:        true,
		OwnerPID:        info.PID,
	}
	gone, quit := make(chan struct{}), make(chan struct{})
	go watchOwner(opts.Home, gone, quit)
	st.done = gone
	st.err = func() error {
		select {
		case <-gone:
			return fmt.Errorf("the embedded stack at %s stopped (its owner, pid %d, exited): run the command again", opts.Home, info.PID)
		default:
			return nil
		}
	}
	st.stop = func() error {
		close(quit)
		l.release()
		return nil
	}
	return st, nil
}

// ownerPoll is how often an attached process checks that the owner of
// its stack is still there.
const ownerPoll = 300 * time.Millisecond

// watchOwner closes gone when no process holds home's lock any more (the
// owner stopped the stack or died), unless quit is closed first.
func watchOwner(home string, gone, quit chan struct{}) {
	t := time.NewTicker(ownerPoll)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			if ownerGone(home) {
				close(gone)
				return
			}
		}
	}
}

// startOwned starts the gateway, the Temporal server and the UI while
// holding the home's lock, and records their addresses in stack.json.
func startOwned(ctx context.Context, opts Options, lock *homeLock) (*Stack, error) {
	log := opts.Logger
	t0 := time.Now()
	bin := opts.Versitygw
	if bin == "" {
		b, err := findOrInstallGateway(ctx, opts)
		if err != nil {
			return nil, err
		}
		bin = b
	}
	prev, err := readStackInfo(opts.Home)
	if err != nil {
		log.Warn("devstack: ignoring unreadable stack.json", "error", err)
		prev = nil
	}
	if prev == nil {
		prev = &stackInfo{}
	}
	root := filepath.Join(opts.Home, objDir)
	killOrphanGateway(prev, root, log)
	creds, err := loadOrCreateCredentials(opts.Home)
	if err != nil {
		return nil, err
	}

	gw, err := startGateway(ctx, bin, root, creds, opts.Bucket, portOf(prev.S3Endpoint), log)
	if err != nil {
		return nil, err
	}
	tS3 := time.Since(t0)
	store, err := opts.temporalStore()
	if err != nil {
		gw.stop()
		return nil, err
	}
	ts, err := startTemporal(store, opts.Namespace,
		temporalPorts{frontend: portOf(prev.TemporalAddress), http: portOf(prev.TemporalHTTP)}, log)
	if err != nil {
		gw.stop()
		return nil, err
	}
	stopAll := func() {
		_ = ts.stop()
		gw.stop()
	}
	if err := waitNamespace(ctx, ts.frontend, opts.Namespace, log); err != nil {
		stopAll()
		return nil, err
	}
	uiURL, stopUI := "", func() {}
	if opts.UI {
		if !uiBuiltIn {
			log.Warn("devstack: this binary was built with -tags nodevui; no Web UI")
		} else {
			url, stop, err := startUI(ctx, ts.frontend, portOf(hostOfURL(prev.UI)), log)
			if err != nil {
				stopAll()
				return nil, err
			}
			uiURL, stopUI = url, stop
		}
	}
	info := &stackInfo{
		PID:             os.Getpid(),
		TemporalAddress: ts.frontend,
		TemporalHTTP:    ts.http,
		Namespace:       opts.Namespace,
		UI:              uiURL,
		S3Endpoint:      gw.endpoint,
		S3Bucket:        opts.Bucket,
		GatewayPID:      gw.pid(),
		StartedAt:       time.Now().UTC().Truncate(time.Millisecond),
	}
	if err := writeStackInfo(opts.Home, info); err != nil {
		stopUI()
		stopAll()
		return nil, fmt.Errorf("devstack: record addresses: %w", err)
	}
	log.Info("devstack: stack up", "home", opts.Home, "temporal", ts.frontend, "s3", gw.endpoint,
		"ui", uiURL, "temporal_store", store.String(), "s3_start", tS3.Round(time.Millisecond), "total", time.Since(t0).Round(time.Millisecond))

	st := &Stack{
		TemporalAddress: ts.frontend,
		Namespace:       opts.Namespace,
		UIAddress:       uiURL,
		S3Endpoint:      gw.endpoint,
		S3AccessKey:     creds.AccessKey,
		S3SecretKey:     creds.SecretKey,
		S3Bucket:        opts.Bucket,
		Home:            opts.Home,
		OwnerPID:        info.PID,
	}
	var infoMu sync.Mutex // the supervisor rewrites stack.json when the gateway restarts
	lost := newLoss()
	sup := newSupervisor(gw, bin, root, creds, opts.Bucket, log, func(g *gateway) {
		infoMu.Lock()
		defer infoMu.Unlock()
		info.GatewayPID = g.pid()
		if err := writeStackInfo(opts.Home, info); err != nil {
			log.Warn("devstack: recording the restarted gateway's pid", "error", err)
		}
	}, lost.fail)
	go sup.run()
	tw := newTemporalWatch(ts, store, opts.Namespace, log, lost.fail)
	go tw.run()
	st.temporal = tw
	st.done = lost.done
	st.err = lost.failure
	st.stop = func() error {
		stopUI()
		err := tw.stop()
		sup.stop()
		infoMu.Lock()
		info.StoppedAt = time.Now().UTC().Truncate(time.Millisecond)
		info.PID = 0
		if werr := writeStackInfo(opts.Home, info); werr != nil {
			err = errors.Join(err, werr)
		}
		infoMu.Unlock()
		lock.release()
		if err != nil {
			return fmt.Errorf("devstack: stop: %w", err)
		}
		return nil
	}
	return st, nil
}

// hostOfURL strips the scheme of an http URL: "http://h:p" → "h:p".
func hostOfURL(u string) string {
	for _, p := range []string{"http://", "https://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			return u[len(p):]
		}
	}
	return u
}

// findOrInstallGateway finds the versitygw binary (FindVersitygw, then
// Home/bin) and, with opts.AutoInstall, installs the pinned version into
// Home/bin when there is none.
func findOrInstallGateway(ctx context.Context, opts Options) (string, error) {
	b, err := FindVersitygw()
	if err == nil {
		return b, nil
	}
	local := filepath.Join(opts.Home, "bin", "versitygw")
	if fi, serr := os.Stat(local); serr == nil && !fi.IsDir() {
		return local, nil
	}
	if !opts.AutoInstall || !errors.Is(err, ErrVersitygwMissing) {
		return "", err
	}
	goTool, lerr := exec.LookPath("go")
	if lerr != nil {
		return "", fmt.Errorf("%w (automatic install needs the go tool on PATH)", err)
	}
	say := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		opts.Logger.Info(msg)
		if opts.InstallLog != nil {
			fmt.Fprintln(opts.InstallLog, msg)
		}
	}
	dir := filepath.Join(opts.Home, "bin")
	say("rulescape: installing versitygw %s into %s (first run only; a few minutes)…", VersitygwVersion, dir)
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, goTool, "install", "github.com/versity/versitygw/cmd/versitygw@"+VersitygwVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, ierr := cmd.CombinedOutput(); ierr != nil {
		return "", fmt.Errorf("devstack: installing versitygw with `%s` failed: %v: %s — install it by hand or set %s",
			VersitygwInstall, ierr, bytes.TrimSpace(out), EnvVersitygw)
	}
	say("rulescape: versitygw installed in %s", time.Since(t0).Round(time.Second))
	return local, nil
}
