//go:build nodevstack

package devstack

import "context"

// Start returns ErrNotBuiltIn: this binary was built with -tags nodevstack.
func Start(context.Context, Options) (*Stack, error) { return nil, ErrNotBuiltIn }

func liveUsers(string) (int, error) { return 0, nil }

type temporalWatch struct{}
