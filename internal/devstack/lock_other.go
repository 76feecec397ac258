//go:build !unix && !nodevstack

package devstack

import "errors"

type homeLock struct{}

func tryLock(string) (*homeLock, error) {
	return nil, errors.New("devstack: the embedded stack needs a Unix system (flock); set TEMPORAL_ADDRESS and RULESCAPE_S3_ENDPOINT instead")
}

func (*homeLock) release() {}

type lease struct{}

func takeLease(string) (*lease, error) { return nil, nil }

func (*lease) release() {}

func liveUsers(string) (int, error) { return 0, nil }

func ownerGone(string) bool { return false }
