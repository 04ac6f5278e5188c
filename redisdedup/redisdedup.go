// Package redisdedup is a busifavor.Deduplicator on Redis, for merchant
// backends that run several instances behind a load balancer: WeChat Pay's
// redeliveries of a coupon event land on any instance, and all of them see
// the same claims.
//
// Each event id is one key, prefix + id, that expires on its own: while a
// delivery handles the event its value is "f:" + the claim's token and it
// lives for the lease; once handled its value is "done" and it lives for the
// done TTL. Claim, Complete and Release are each one Lua script, so each is
// atomic, and Complete and Release act only while the key still holds their
// token: a delivery whose lease lapsed, and whose event another delivery has
// claimed since, cannot clobber the new owner. Plain SET NX PX would make
// Claim atomic too, but telling "in flight" from "done" on a lost race would
// take a second round trip; the script answers in one. It runs on any Redis
// with scripting (2.6 and later), standalone, Sentinel or Cluster (one key
// per script).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	d := redisdedup.New(rdb)
//	handler := busifavor.NewEventHandler(parser, busifavor.Deduplicate(d, record))
package redisdedup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/busifavor-go/busifavor"
)

// Defaults.
const (
	// DefaultKeyPrefix starts every key.
	DefaultKeyPrefix = "busifavor:event:"
	// DefaultDoneTTL is how long a handled event id is remembered: a day,
	// well past WeChat Pay's redelivery window (11 deliveries, 60 s apart).
	DefaultDoneTTL = 24 * time.Hour
)

// Deduplicator is a busifavor.Deduplicator on Redis. It is safe for
// concurrent use, by any number of instances sharing the Redis.
type Deduplicator struct {
	rdb     redis.UniversalClient
	prefix  string
	lease   time.Duration
	doneTTL time.Duration
}

// Option configures a Deduplicator in New.
type Option func(*Deduplicator)

// WithKeyPrefix sets the prefix of every key (default DefaultKeyPrefix).
func WithKeyPrefix(prefix string) Option { return func(d *Deduplicator) { d.prefix = prefix } }

// WithLease sets how long a claim lasts (default busifavor.DefaultLease);
// values under a millisecond are raised to one.
func WithLease(lease time.Duration) Option {
	return func(d *Deduplicator) { d.lease = max(lease, time.Millisecond) }
}

// WithDoneTTL sets how long a handled event id is remembered (default
// DefaultDoneTTL); values under a millisecond are raised to one.
func WithDoneTTL(ttl time.Duration) Option {
	return func(d *Deduplicator) { d.doneTTL = max(ttl, time.Millisecond) }
}

// New returns a Deduplicator on rdb (a *redis.Client, *redis.ClusterClient
// or *redis.Ring; anything redis.UniversalClient).
func New(rdb redis.UniversalClient, opts ...Option) *Deduplicator {
	d := &Deduplicator{rdb: rdb, prefix: DefaultKeyPrefix, lease: busifavor.DefaultLease, doneTTL: DefaultDoneTTL}
	for _, o := range opts {
		o(d)
	}
	return d
}

// The scripts. A key is absent (unseen, or its lease lapsed), "f:<token>"
// (in flight) or "done".
var (
	// claimScript: KEYS[1] id key; ARGV[1] "f:<token>", ARGV[2] lease ms.
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if v == 'done' then return 'done' end
return 'inflight'`)
	// completeScript: KEYS[1] id key; ARGV[1] "f:<token>", ARGV[2] done TTL ms.
	completeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
return 1`)
	// releaseScript: KEYS[1] id key; ARGV[1] "f:<token>".
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`)
)

// Claim implements busifavor.Deduplicator.
func (d *Deduplicator) Claim(ctx context.Context, id string) (busifavor.Claim, error) {
	token := newToken()
	res, err := claimScript.Run(ctx, d.rdb, []string{d.prefix + id}, "f:"+token, d.lease.Milliseconds()).Text()
	if err != nil {
		return busifavor.Claim{}, fmt.Errorf("redisdedup: claim: %w", err)
	}
	switch res {
	case "claimed":
		return busifavor.Claim{Status: busifavor.Claimed, Token: token, Lease: d.lease}, nil
	case "done":
		return busifavor.Claim{Status: busifavor.Done}, nil
	case "inflight":
		return busifavor.Claim{Status: busifavor.InFlight}, nil
	}
	return busifavor.Claim{}, fmt.Errorf("redisdedup: claim: unexpected answer %q", res)
}

// Complete implements busifavor.Deduplicator.
func (d *Deduplicator) Complete(ctx context.Context, id, token string) error {
	return d.ifOwner(ctx, completeScript, "complete", id, token, d.doneTTL.Milliseconds())
}

// Release implements busifavor.Deduplicator.
func (d *Deduplicator) Release(ctx context.Context, id, token string) error {
	return d.ifOwner(ctx, releaseScript, "release", id, token)
}

// ifOwner runs an owner-checked script; 0 means token no longer owns id.
func (d *Deduplicator) ifOwner(ctx context.Context, s *redis.Script, what, id, token string, args ...any) error {
	ok, err := s.Run(ctx, d.rdb, []string{d.prefix + id}, append([]any{"f:" + token}, args...)...).Int()
	if err != nil {
		return fmt.Errorf("redisdedup: %s: %w", what, err)
	}
	if ok == 0 {
		return busifavor.ErrNotOwner
	}
	return nil
}

// newToken returns a random claim token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var _ busifavor.Deduplicator = (*Deduplicator)(nil)
