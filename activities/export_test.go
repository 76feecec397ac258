package activities

import "context"

// SetMetaoptHooks sets the test hooks of a: after is called after each
// metaopt iteration is checkpointed, before before each MetaoptEval
// evaluates its group (an error fails the attempt).
func SetMetaoptHooks(a *Activities, after func(iter int), before func(ctx context.Context, in MetaoptEvalInput) error) {
	a.afterIteration, a.beforeEval = after, before
}
