//go:build !nodevstack && nodevui

package devstack

import (
	"context"
	"log/slog"
)

// uiBuiltIn reports whether this binary carries the Temporal Web UI.
const uiBuiltIn = false

func startUI(context.Context, string, int, *slog.Logger) (string, func(), error) {
	return "", nil, nil
}
