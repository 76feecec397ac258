//go:build !nodevstack && !nodevui

package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiBuiltIn reports whether this binary carries the Temporal Web UI.
const uiBuiltIn = true

// startUI serves the Temporal Web UI for the frontend at temporalAddr on
// 127.0.0.1:port and returns its URL and a stop function.
//
// The UI server's Start exits the process on a bind failure, so the port is
// checked just before; a process taking it in between is the remaining risk.
func startUI(ctx context.Context, temporalAddr string, prefer int, log *slog.Logger) (string, func(), error) {
	port, err := pickPort(prefer)
	if err != nil {
		return "", nil, err
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                "127.0.0.1",
		Port:                port,
		TemporalGRPCAddress: temporalAddr,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	go func() {
		if err := srv.Start(); err != nil {
			log.Error("devstack: Temporal Web UI stopped", "error", err)
		}
	}()
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return url, srv.Stop, nil
		}
		select {
		case <-ctx.Done():
			srv.Stop()
			return "", nil, fmt.Errorf("devstack: Temporal Web UI did not answer on %s: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
