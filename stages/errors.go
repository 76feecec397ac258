package stages

import "errors"

// invalidError marks an error of a unit's settings or inputs.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }

// invalid marks err as one no retry can fix.
func invalid(err error) error {
	if err == nil || Invalid(err) {
		return err
	}
	return invalidError{err}
}

// Invalid reports whether err, or an error it wraps, comes from the unit's
// settings or inputs (a bad parameter, a network row that does not fit its
// unit): computing the unit again gives the same error. Other errors of a
// stage (a cancelled context, a numerical failure of one attempt) may not
// recur. The campaign activities fail such units without retrying.
func Invalid(err error) bool {
	var e invalidError
	return errors.As(err, &e)
}
