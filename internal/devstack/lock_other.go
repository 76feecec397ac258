//go:build !unix && !nodevstack

package devstack

import "errors"

type homeLock struct{}

func tryLock(string) (*homeLock, error) {
	return nil, errors.New("devstack: the embedded stack needs a Unix system (flock); set TEMPORAL_ADDRESS and RULESCAPE_S3_ENDPOINT instead")
}

func (*homeLock) release() {}
