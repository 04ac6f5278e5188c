// Package redisdedup is a busifavor.Deduplicator on Redis, for merchant
// backends that run several instances behind a load balancer: WeChat Pay's
// redeliveries of a coupon event land on any instance, and all of them see
// the same claims.
//
// Each event id is one key, prefix + id (prefix + namespace + ":" + id with
// WithNamespace), that expires on its own: while a delivery handles the
// event its value is "f:" + the claim's token and it lives for the lease;
// once handled its value is "d:" + the token and it lives for the done TTL.
// Claim, Complete and Release are each one Lua script, so each is atomic,
// and Complete and Release never undo another token's claim: a delivery
// whose lease lapsed, and whose event another delivery has claimed since,
// cannot clobber the new owner. Plain SET NX PX would make Claim atomic
// too, but telling "in flight" from "done" on a lost race would take a
// second round trip; the script answers in one.
//
// Each script answers a repetition by its own token as it answered the
// first run, because go-redis sends a command again when its answer was
// lost (a dropped connection, a read timeout): Claim makes its token before
// sending, so a repeated Claim that finds its own token reports Claimed; a
// repeated Complete finds the id done by its token; a repeated Release
// finds nothing left to forget. Complete also records an id whose lease
// lapsed unclaimed (the handling it reports succeeded).
//
// It runs on any Redis with scripting (2.6 and later), standalone,
// Sentinel or Cluster: each script touches one key, so Cluster routes it
// to the key's slot (tested against a three-master cluster, through a
// failover). Redis replicates asynchronously: a master that dies before
// its replica has a write loses it in an automatic failover, so a claim or
// a done id written just before the crash can be lost, and the event
// handled once more if WeChat Pay delivers it again (a manual CLUSTER
// FAILOVER waits for the replica and loses nothing).
//
// go-redis bounds a command by its ReadTimeout and WriteTimeout (and
// retries it), not by the context, unless the client sets
// ContextTimeoutEnabled: set it, so that the deadlines busifavor.Deduplicate
// gives (the ack deadline for Claim, the lease for Complete and Release)
// bound each command too.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	d := redisdedup.New(rdb, redisdedup.WithNamespace(mchID))
//	handler := busifavor.NewEventHandler(parser, busifavor.Deduplicate(d, record))
package redisdedup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
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
	prefix  string // with the namespace, escaped, and its ":"
	ns      string
	lease   time.Duration
	doneTTL time.Duration
}

// Option configures a Deduplicator in New.
type Option func(*Deduplicator)

// WithKeyPrefix sets the prefix of every key (default DefaultKeyPrefix).
func WithKeyPrefix(prefix string) Option { return func(d *Deduplicator) { d.prefix = prefix } }

// WithNamespace keeps ids apart from those of every other namespace in the
// same Redis (and from those of no namespace): give each merchant whose
// events share a Redis its own, its merchant number say, so that equal
// event ids of two merchants never meet. Its key is prefix + ns + ":" + id,
// with "%" and ":" in ns escaped (%25, %3A), so that no two namespaces
// share a key.
func WithNamespace(ns string) Option { return func(d *Deduplicator) { d.ns = ns } }

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
	if d.ns != "" {
		d.prefix += keyEscaper.Replace(d.ns) + ":"
	}
	return d
}

// keyEscaper escapes a namespace and an id in a key, so that no id of one
// namespace, or of none, spells a key of another ("a:b" without a namespace
// is not "b" in namespace "a"). Event ids from WeChat Pay are UUIDs, which it
// leaves as they are.
var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// key is id's key.
func (d *Deduplicator) key(id string) string { return d.prefix + keyEscaper.Replace(id) }

// The scripts. A key is absent (unseen, or its lease lapsed), "f:<token>"
// (in flight), "d:<token>" (done) or "done" (done, written by versions
// before the token was kept).
var (
	// claimScript: KEYS[1] id key; ARGV[1] token, ARGV[2] lease ms.
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'f:' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if v == 'f:' .. ARGV[1] then return 'claimed' end
if v == 'done' or string.sub(v, 1, 2) == 'd:' then return 'done' end
return 'inflight'`)
	// completeScript: KEYS[1] id key; ARGV[1] token, ARGV[2] done TTL ms.
	completeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == 'd:' .. ARGV[1] then return 1 end
if v and v ~= 'f:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'd:' .. ARGV[1], 'PX', ARGV[2])
return 1`)
	// releaseScript: KEYS[1] id key; ARGV[1] token.
	releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 1 end
if v ~= 'f:' .. ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`)
)

// Claim implements busifavor.Deduplicator.
func (d *Deduplicator) Claim(ctx context.Context, id string) (busifavor.Claim, error) {
	if id == "" {
		return busifavor.Claim{}, fmt.Errorf("redisdedup: claim: %w", busifavor.ErrMissingEventID)
	}
	token := newToken() // before sending: a resent script carries it too
	res, err := claimScript.Run(ctx, d.rdb, []string{d.key(id)}, token, d.lease.Milliseconds()).Text()
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

// ifOwner runs an owner-checked script; 0 means another token holds id.
func (d *Deduplicator) ifOwner(ctx context.Context, s *redis.Script, what, id, token string, args ...any) error {
	ok, err := s.Run(ctx, d.rdb, []string{d.key(id)}, append([]any{token}, args...)...).Int()
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
