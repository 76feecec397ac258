//go:build !nodevstack

package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// errPortTaken means the gateway could not bind its port; Start retries
// with another one (versitygw has no ":0" option).
var errPortTaken = errors.New("port taken")

// gateway is a versitygw subprocess. It runs as a subprocess, not
// embedded, because its posix backend changes the process's working
// directory and only one gateway can run per process.
type gateway struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	stderr   *tailBuffer
	log      *slog.Logger
}

// startGateway starts versitygw on root, preferring port prefer, retrying
// on another free port when the port is taken, and makes sure bucket
// exists. It returns once the gateway answers S3 requests signed with
// creds.
func startGateway(ctx context.Context, bin, root string, creds credentials, bucket string, prefer int, log *slog.Logger) (*gateway, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("devstack: create object directory: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			prefer = 0
		}
		port, err := pickPort(prefer)
		if err != nil {
			return nil, err
		}
		g, err := launchGateway(ctx, bin, root, creds, port, log)
		if errors.Is(err, errPortTaken) {
			log.Debug("devstack: gateway port taken, retrying", "port", port)
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := g.ensureBucket(ctx, creds, bucket); err != nil {
			g.stop()
			return nil, err
		}
		return g, nil
	}
	return nil, fmt.Errorf("devstack: versitygw could not bind a port after 5 attempts: %w", lastErr)
}

// launchGateway starts one versitygw process on 127.0.0.1:port and waits
// until it accepts connections, exits, or ctx ends.
func launchGateway(ctx context.Context, bin, root string, creds credentials, port int, log *slog.Logger) (*gateway, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Not exec.CommandContext: the gateway outlives the start-up context.
	// --keep-alive: versitygw closes every connection after one response
	// unless told otherwise, so each request of a campaign's cache
	// resolution opened a TCP connection (a cached 5 500-unit run: 5.1 s
	// without keep-alive, 3.3-4.6 s with it). On SIGTERM it then waits for
	// its open connections, and one that a client's pool opened but never
	// used holds it until stop's SIGKILL; so a process closes its store's
	// idle connections before it stops the gateway (store.Store.Close).
	cmd := exec.Command(bin, "--port", addr, "--quiet", "--keep-alive", "posix", root)
	cmd.Dir = root
	// Keys through the environment (not argv, which any local user can
	// read); nothing else of ours leaks in (VGW_* variables would change
	// the gateway's behaviour).
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"ROOT_ACCESS_KEY_ID=" + creds.AccessKey,
		"ROOT_SECRET_ACCESS_KEY=" + creds.SecretKey,
	}
	g := &gateway{endpoint: addr, cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{max: 8 << 10}, log: log}
	cmd.Stdout = g.stderr
	cmd.Stderr = g.stderr
	cmd.SysProcAttr = gatewayProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: start %s: %w", bin, err)
	}
	go func() {
		_ = cmd.Wait()
		close(g.exited)
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-g.exited:
			out := g.stderr.String()
			if strings.Contains(out, "address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("devstack: versitygw exited during start-up (%s): %s", cmd.ProcessState, strings.TrimSpace(out))
		case <-ctx.Done():
			g.stop()
			return nil, fmt.Errorf("devstack: waiting for versitygw on %s: %w", addr, ctx.Err())
		case <-deadline:
			g.stop()
			return nil, fmt.Errorf("devstack: versitygw did not listen on %s within 30 s: %s", addr, strings.TrimSpace(g.stderr.String()))
		case <-tick.C:
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				continue
			}
			c.Close()
			// Something listens; make sure it is our process and not a
			// stranger that took the port first: ours stays alive.
			select {
			case <-g.exited:
				continue // reported by the exited case above
			case <-time.After(50 * time.Millisecond):
			}
			return g, nil
		}
	}
}

// ensureBucket creates bucket unless it exists, which also proves that the
// gateway accepts creds.
func (g *gateway) ensureBucket(ctx context.Context, creds credentials, bucket string) error {
	mc, err := minio.New(g.endpoint, &minio.Options{Creds: miniocreds.NewStaticV4(creds.AccessKey, creds.SecretKey, "")})
	if err != nil {
		return fmt.Errorf("devstack: S3 client for %s: %w", g.endpoint, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("devstack: versitygw on %s rejected the stored keys or failed (%v): %s", g.endpoint, err, strings.TrimSpace(g.stderr.String()))
	}
	if !ok {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("devstack: create bucket %q: %w", bucket, err)
		}
	}
	return nil
}

// pid returns the gateway's process id.
func (g *gateway) pid() int { return g.cmd.Process.Pid }

// stop sends SIGTERM, waits up to 5 s, then SIGKILLs.
func (g *gateway) stop() {
	if g == nil {
		return
	}
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(5 * time.Second):
		g.log.Warn("devstack: versitygw ignored SIGTERM for 5 s; killing it", "pid", g.pid())
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// killOrphanGateway kills a versitygw left serving root by a previous
// owner (possible where the kernel cannot tie the gateway's life to its
// owner's).
func killOrphanGateway(prev *stackInfo, root string, log *slog.Logger) {
	if prev == nil || prev.GatewayPID <= 0 || !isGatewayOf(prev.GatewayPID, root) {
		return
	}
	log.Warn("devstack: killing versitygw left over from a previous stack", "pid", prev.GatewayPID)
	if p, err := os.FindProcess(prev.GatewayPID); err == nil {
		_ = p.Kill()
		for i := 0; i < 100 && isGatewayOf(prev.GatewayPID, root); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
