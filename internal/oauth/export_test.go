package oauth

import "context"

// FollowRevocations has s follow the revocation log once, as
// WatchRevocations does on every tick.
func (s *Service) FollowRevocations(ctx context.Context) error { return s.syncRevocations(ctx) }
