// Package redisdedup is a busifavor.Deduplicator on Redis, for merchant
// backends that run several instances behind a load balancer: WeChat Pay's
// redeliveries of a coupon event land on any instance, and all of them see
// the same claims.
//
// Each event id is one key, prefix + namespace + ":" + id (the namespace
// empty without WithNamespace), that expires on its own: while a delivery
// handles the event its value is "f:" + the claim's token and it lives for
// the lease; once handled its value is "d:" + the token and it lives for
// the done TTL. The namespace and the id are escaped ("%", ":", "{" and "}"
// become %25, %3A, %7B and %7D) and the prefix ends with ":", so no
// prefix, namespace and id spell another's key, and no namespace or id
// holds a Cluster hash tag. Redis counts the lease and the done TTL in
// whole milliseconds: a part of a millisecond is rounded up, so Redis never
// lets a claim lapse before the lease the caller was told ends.
//
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
// Redis must not evict its keys: with maxmemory reached and an evicting
// maxmemory-policy, Redis deletes keys that have not expired, and a claim
// deleted while its event is handled lets another instance handle the event
// too (volatile-ttl picks the short-lived claims first). Run it with
// maxmemory-policy noeviction, where a full Redis refuses the write (Claim
// then fails, the delivery gets 503, and WeChat Pay delivers again); a
// cache that needs eviction belongs on another Redis. New reads the policy
// of each node go-redis knows (a Cluster's masters and the replicas its
// CLUSTER SLOTS lists, which leaves out one still syncing; a Ring's live
// shards) with CONFIG GET, or INFO memory where CONFIG is refused (managed
// services such as Google's Memorystore block CONFIG), and refuses anything
// but noeviction (ErrEvictingPolicy). Where a node answers neither, New
// returns ErrPolicyUnknown: check the policy in the service's settings
// (Memorystore's default is volatile-lru), then pass WithoutPolicyCheck.
// The policy is read once, by New: give every node of a Cluster the same
// configuration, and know that a later CONFIG SET goes unnoticed.
//
// go-redis bounds a command by its ReadTimeout and WriteTimeout (and
// retries it), not by the context, unless the client sets
// ContextTimeoutEnabled: set it, so that the deadlines busifavor.Deduplicate
// gives (the ack deadline for Claim, the lease for Complete and Release)
// bound each command too.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	d, err := redisdedup.New(ctx, rdb, redisdedup.WithNamespace(mchID))
//	if err != nil {
//		return err // bad options, an evicting Redis, or Redis unreachable
//	}
//	handler := busifavor.NewEventHandler(parser, busifavor.Deduplicate(d, record))
package redisdedup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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

// Errors of New's check of Redis's maxmemory-policy; see the package doc.
var (
	// ErrEvictingPolicy means a node runs with a maxmemory-policy other than
	// noeviction, under which Redis may delete a claim while its event is
	// handled, and another instance would handle the event too.
	ErrEvictingPolicy = errors.New("redisdedup: Redis may evict the deduplicator's keys")
	// ErrPolicyUnknown means a node refused both CONFIG GET and INFO, so
	// New could not read its maxmemory-policy. Check it by other means (the
	// service's settings), then pass WithoutPolicyCheck.
	ErrPolicyUnknown = errors.New("redisdedup: cannot read Redis's maxmemory-policy")
)

// Deduplicator is a busifavor.Deduplicator on Redis. It is safe for
// concurrent use, by any number of instances sharing the Redis.
type Deduplicator struct {
	rdb       redis.UniversalClient
	prefix    string // the key prefix, then the namespace, escaped, and its ":"
	ns        string
	lease     time.Duration
	doneTTL   time.Duration
	unchecked bool // WithoutPolicyCheck
}

// Option configures a Deduplicator in New; New returns the error of an
// option given a value it refuses.
type Option func(*Deduplicator) error

// WithKeyPrefix sets the prefix of every key (default DefaultKeyPrefix). It
// ends with ":" (or is empty), so that no namespace or id extends one prefix
// into another. It is used as given: a Cluster hash tag in it ({…}) puts
// every key on one slot.
func WithKeyPrefix(prefix string) Option {
	return func(d *Deduplicator) error {
		if prefix != "" && !strings.HasSuffix(prefix, ":") {
			return fmt.Errorf("redisdedup: WithKeyPrefix: %q does not end with \":\"; add one, so that no namespace or id can extend it into another prefix", prefix)
		}
		d.prefix = prefix
		return nil
	}
}

// WithNamespace keeps ids apart from those of every other namespace in the
// same Redis (and from those of no namespace, which is ""): give each
// merchant whose events share a Redis its own, its merchant number say, so
// that equal event ids of two merchants never meet. Its keys are prefix +
// ns + ":" + id, with ns and id escaped (see the package doc).
func WithNamespace(ns string) Option {
	return func(d *Deduplicator) error {
		d.ns = ns
		return nil
	}
}

// WithLease sets how long a claim lasts (default busifavor.DefaultLease). It
// must be positive, as busifavor.WithLease's; Redis counts it in whole
// milliseconds, rounded up.
func WithLease(lease time.Duration) Option {
	return func(d *Deduplicator) error {
		if lease <= 0 {
			return fmt.Errorf("redisdedup: WithLease: %s is not positive", lease)
		}
		d.lease = lease
		return nil
	}
}

// WithDoneTTL sets how long a handled event id is remembered (default
// DefaultDoneTTL). It must be positive; Redis counts it in whole
// milliseconds, rounded up.
func WithDoneTTL(ttl time.Duration) Option {
	return func(d *Deduplicator) error {
		if ttl <= 0 {
			return fmt.Errorf("redisdedup: WithDoneTTL: %s is not positive", ttl)
		}
		d.doneTTL = ttl
		return nil
	}
}

// WithoutPolicyCheck skips New's check of Redis's maxmemory-policy, for a
// Redis that answers neither CONFIG GET nor INFO (ErrPolicyUnknown) and
// whose policy you have checked is noeviction. New then sends nothing to
// Redis. Nothing checks the policy afterwards: under an evicting one, two
// instances can handle one event.
func WithoutPolicyCheck() Option {
	return func(d *Deduplicator) error {
		d.unchecked = true
		return nil
	}
}

// New returns a Deduplicator on rdb (a *redis.Client, *redis.ClusterClient
// or *redis.Ring; anything redis.UniversalClient). It refuses an option
// given a value it cannot use, and, unless WithoutPolicyCheck, a Redis
// whose maxmemory-policy is not noeviction (ErrEvictingPolicy) or cannot
// be read (ErrPolicyUnknown); ctx bounds that check, which needs Redis to
// answer. See the package doc.
func New(ctx context.Context, rdb redis.UniversalClient, opts ...Option) (*Deduplicator, error) {
	if rdb == nil {
		return nil, errors.New("redisdedup: New: nil Redis client")
	}
	d := &Deduplicator{rdb: rdb, prefix: DefaultKeyPrefix, lease: busifavor.DefaultLease, doneTTL: DefaultDoneTTL}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("redisdedup: New: nil Option")
		}
		if err := o(d); err != nil {
			return nil, err
		}
	}
	d.prefix += keyEscaper.Replace(d.ns) + ":"
	if !d.unchecked {
		if err := checkPolicy(ctx, rdb); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// checkPolicy refuses a Redis that may evict keys: any node of rdb whose
// maxmemory-policy is not noeviction, or cannot be read.
func checkPolicy(ctx context.Context, rdb redis.UniversalClient) error {
	type shards interface {
		ForEachShard(context.Context, func(context.Context, *redis.Client) error) error
	}
	if s, ok := rdb.(shards); ok { // *redis.ClusterClient, *redis.Ring
		return s.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			return checkNode(ctx, c, c.Options().Addr)
		})
	}
	addr := "Redis"
	if c, ok := rdb.(*redis.Client); ok {
		addr = c.Options().Addr
	}
	return checkNode(ctx, rdb, addr)
}

// checkNode refuses one node whose maxmemory-policy is not noeviction or
// cannot be read.
func checkNode(ctx context.Context, c redis.Cmdable, addr string) error {
	policy, refused, err := nodePolicy(ctx, c)
	switch {
	case err != nil:
		return fmt.Errorf("redisdedup: reading the maxmemory-policy of %s: %w", addr, err)
	case policy == "":
		return fmt.Errorf("%w: %s %s; check that its maxmemory-policy is noeviction, then pass redisdedup.WithoutPolicyCheck()",
			ErrPolicyUnknown, addr, refused)
	case policy != "noeviction":
		return fmt.Errorf("%w: %s has maxmemory-policy %s, under which Redis can delete a claim while its event is handled "+
			"and another instance handles the event too; set maxmemory-policy noeviction (a cache that needs eviction belongs on another Redis)",
			ErrEvictingPolicy, addr, policy)
	}
	return nil
}

// nodePolicy reads a node's maxmemory-policy with CONFIG GET, or INFO
// memory where CONFIG is refused. Where both are refused, policy is empty
// and refused says what each answered; err is a failure to reach the node.
func nodePolicy(ctx context.Context, c redis.Cmdable) (policy, refused string, err error) {
	conf, cerr := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if cerr == nil && conf["maxmemory-policy"] != "" {
		return conf["maxmemory-policy"], "", nil
	}
	if cerr != nil && !isReply(cerr) {
		return "", "", cerr
	}
	info, ierr := c.Info(ctx, "memory").Result()
	if ierr != nil && !isReply(ierr) {
		return "", "", ierr
	}
	for _, line := range strings.Split(info, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok && p != "" {
			return p, "", nil
		}
	}
	if cerr == nil {
		cerr = errors.New("no such parameter")
	}
	if ierr == nil {
		ierr = errors.New("no maxmemory_policy line")
	}
	return "", fmt.Sprintf("answered CONFIG GET maxmemory-policy with %q and INFO memory with %q", cerr, ierr), nil
}

// isReply reports whether err is Redis's answer (a refusal: unknown
// command, NOPERM), not a failure to reach it.
func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// keyEscaper escapes a namespace and an id in a key, so that no id of one
// namespace, or of none, spells a key of another ("a:b" without a namespace
// is not "b" in namespace "a"), and neither holds a Cluster hash tag. Event
// ids from WeChat Pay are UUIDs, which it leaves as they are.
var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

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
	res, err := claimScript.Run(ctx, d.rdb, []string{d.key(id)}, token, millis(d.lease)).Text()
	if err != nil {
		return busifavor.Claim{}, fmt.Errorf("redisdedup: claim: %w", err)
	}
	switch res {
	case "claimed":
		return busifavor.Claim{Status: busifavor.ClaimStatusClaimed, Token: token, Lease: d.lease}, nil
	case "done":
		return busifavor.Claim{Status: busifavor.ClaimStatusDone}, nil
	case "inflight":
		return busifavor.Claim{Status: busifavor.ClaimStatusInFlight}, nil
	}
	return busifavor.Claim{}, fmt.Errorf("redisdedup: claim: unexpected answer %q", res)
}

// Complete implements busifavor.Deduplicator.
func (d *Deduplicator) Complete(ctx context.Context, id, token string) error {
	return d.ifOwner(ctx, completeScript, "complete", id, token, millis(d.doneTTL))
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

// millis is d in whole milliseconds, rounded up: Redis keeps a key at
// least as long as the caller counts on.
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// newToken returns a random claim token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var _ busifavor.Deduplicator = (*Deduplicator)(nil)
