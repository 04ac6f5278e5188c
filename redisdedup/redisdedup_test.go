package redisdedup_test

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/redisdedup"
)

var ctx = context.Background()

// newDedup is redisdedup.New, for a test that needs it to succeed.
func newDedup(t testing.TB, rdb redis.UniversalClient, opts ...redisdedup.Option) *redisdedup.Deduplicator {
	t.Helper()
	d, err := redisdedup.New(ctx, rdb, opts...)
	require.NoError(t, err)
	return d
}

// TestNewRefusesBadOptions: a lease or done TTL that is zero or negative is
// refused, as busifavor.WithLease refuses it (both used to become 1 ms, so
// a setting left at zero made every event's handling outlive its claim, or
// forgot each handled id at once), and so are a prefix without its closing
// ":", a nil option and a nil client. The smallest positive values pass.
// None of this needs Redis: with WithoutPolicyCheck New sends nothing.
func TestNewRefusesBadOptions(t *testing.T) {
	nowhere := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { nowhere.Close() })
	for _, tc := range []struct {
		opt  redisdedup.Option
		want string
	}{
		{redisdedup.WithLease(0), "redisdedup: WithLease: 0s is not positive"},
		{redisdedup.WithLease(-time.Second), "redisdedup: WithLease: -1s is not positive"},
		{redisdedup.WithDoneTTL(0), "redisdedup: WithDoneTTL: 0s is not positive"},
		{redisdedup.WithDoneTTL(-time.Nanosecond), "redisdedup: WithDoneTTL: -1ns is not positive"},
		{redisdedup.WithKeyPrefix("p"), `redisdedup: WithKeyPrefix: "p" does not end with ":"`},
		{redisdedup.WithKeyPrefix("p:x"), `redisdedup: WithKeyPrefix: "p:x" does not end with ":"`},
		{nil, "redisdedup: New: nil Option"},
	} {
		d, err := redisdedup.New(ctx, nowhere, redisdedup.WithoutPolicyCheck(), tc.opt)
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
		assert.Nil(t, d)
	}
	_, err := redisdedup.New(ctx, nil)
	assert.EqualError(t, err, "redisdedup: New: nil Redis client")

	for _, opt := range []redisdedup.Option{redisdedup.WithLease(time.Nanosecond), redisdedup.WithDoneTTL(time.Nanosecond),
		redisdedup.WithKeyPrefix(""), redisdedup.WithKeyPrefix("p:"), redisdedup.WithNamespace("")} {
		d, err := redisdedup.New(ctx, nowhere, redisdedup.WithoutPolicyCheck(), opt)
		assert.NoError(t, err)
		assert.NotNil(t, d)
	}
}

// argsHook records the last argument of every script go-redis sends: the
// lease or done TTL in milliseconds.
type argsHook struct {
	mu   sync.Mutex
	last []any
}

func (*argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			h.mu.Lock()
			h.last = append(h.last, cmd.Args()[len(cmd.Args())-1])
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (*argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestLeaseRoundedUpToMilliseconds: Redis counts PX in milliseconds, and a
// part of one is rounded up, never down (a 1.5 ms lease used to be sent as
// 1 ms, so Redis let a claim lapse before the caller's lease ended, and
// 1 h + 1 µs as 3600000). Claim still reports the caller's lease.
func TestLeaseRoundedUpToMilliseconds(t *testing.T) {
	r := startRedis(t)
	for _, tc := range []struct {
		lease, ttl         time.Duration
		leaseSent, ttlSent int64
	}{
		{1500 * time.Microsecond, time.Hour + time.Microsecond, 2, 3600001},
		{time.Nanosecond, time.Nanosecond, 1, 1},
		{10 * time.Millisecond, time.Hour, 10, 3600000},
		{10*time.Millisecond + time.Nanosecond, time.Hour - time.Nanosecond, 11, 3600000},
	} {
		rdb := r.Client()
		h := &argsHook{}
		rdb.AddHook(h)
		d := newDedup(t, rdb, redisdedup.WithLease(tc.lease), redisdedup.WithDoneTTL(tc.ttl))
		id := "id-" + tc.lease.String()
		c, err := d.Claim(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, tc.lease, c.Lease, "Claim reports the lease as given")
		h.mu.Lock()
		claimArgs := h.last
		h.last = nil
		h.mu.Unlock()
		// A complete that finds the lapsed claim still records the id.
		require.NoError(t, d.Complete(ctx, id, c.Token))
		h.mu.Lock()
		completeArgs := h.last
		h.mu.Unlock()
		require.NotEmpty(t, claimArgs)
		require.NotEmpty(t, completeArgs)
		for _, a := range claimArgs {
			assert.EqualValues(t, tc.leaseSent, a, "lease %s", tc.lease)
		}
		for _, a := range completeArgs {
			assert.EqualValues(t, tc.ttlSent, a, "done TTL %s", tc.ttl)
		}
	}
}

// TestKeyLayoutIsUnambiguous: prefix "p:" with namespace 1900000001 and
// prefix "p:1900000001:" without one used to spell the same key, so one
// deduplicator took the other's claim for its own event; and a namespace
// or id with braces held a Cluster hash tag ("busifavor:event:{m}:q"),
// which pins all its keys to one slot. Every key is now prefix + namespace
// (empty without one) + ":" + id, the last two escaped.
func TestKeyLayoutIsUnambiguous(t *testing.T) {
	rdb := startRedis(t).Client()
	pairs := [][2][]redisdedup.Option{
		{{redisdedup.WithKeyPrefix("p:"), redisdedup.WithNamespace("1900000001")}, {redisdedup.WithKeyPrefix("p:1900000001:")}},
		{{redisdedup.WithKeyPrefix("p:"), redisdedup.WithNamespace("a")}, {redisdedup.WithKeyPrefix("p:a:"), redisdedup.WithNamespace("")}},
		{{redisdedup.WithKeyPrefix(""), redisdedup.WithNamespace("p")}, {redisdedup.WithKeyPrefix("p:")}},
	}
	for i, p := range pairs {
		id := "x" + strconv.Itoa(i)
		a, err := newDedup(t, rdb, p[0]...).Claim(ctx, id)
		require.NoError(t, err)
		b, err := newDedup(t, rdb, p[1]...).Claim(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []busifavor.ClaimStatus{busifavor.ClaimStatusClaimed, busifavor.ClaimStatusClaimed}, []busifavor.ClaimStatus{a.Status, b.Status},
			"pair %d: two deduplicators, two keys", i)
	}

	braces := newDedup(t, rdb, redisdedup.WithNamespace("{m}"))
	c, err := braces.Claim(ctx, "{q}")
	require.NoError(t, err)
	require.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	c, err = braces.Claim(ctx, "{q}")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusInFlight, c.Status, "the escaped key is found again")

	keys := rdb.Keys(ctx, "*").Val()
	assert.ElementsMatch(t, []string{"p:1900000001:x0", "p:1900000001::x0", "p:a:x1", "p:a::x1", "p:x2", "p::x2",
		"busifavor:event:%7Bm%7D:%7Bq%7D"}, keys)
	for _, k := range keys {
		assert.NotContains(t, k, "{", "a hash tag in %q", k)
	}
}

// evicted reads INFO stats' evicted_keys.
func evicted(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	for _, line := range strings.Split(rdb.Info(ctx, "stats").Val(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "evicted_keys:"); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no evicted_keys in INFO stats")
	return 0
}

// TestEvictingPolicyIsRefused runs a real redis-server with a memory limit
// and volatile-ttl, as a shared cache might. First what the check guards
// against: once memory fills up, Redis evicts the short-lived claim of an
// event in flight, and a second instance claims the event too. New refuses
// that Redis, and every other evicting policy, naming the node and the
// policy; it accepts noeviction, under which a full Redis refuses the claim
// (an error, so the delivery gets 503) instead of forgetting one.
func TestEvictingPolicyIsRefused(t *testing.T) {
	r := startRedis(t, "--maxmemory", "4mb", "--maxmemory-policy", "volatile-ttl")
	rdb := r.Client()

	_, err := redisdedup.New(ctx, rdb)
	require.ErrorIs(t, err, redisdedup.ErrEvictingPolicy)
	assert.Contains(t, err.Error(), r.Addr()+" has maxmemory-policy volatile-ttl")
	assert.Contains(t, err.Error(), "set maxmemory-policy noeviction")

	// The hazard, with the check skipped: an instance holds a claim while
	// a cache writes its entries (an hour's TTL) beside it.
	unchecked := newDedup(t, rdb, redisdedup.WithoutPolicyCheck(), redisdedup.WithLease(time.Minute))
	first, err := unchecked.Claim(ctx, "e")
	require.NoError(t, err)
	require.Equal(t, busifavor.ClaimStatusClaimed, first.Status)
	value := strings.Repeat("v", 8<<10)
	for i := 0; rdb.Exists(ctx, redisdedup.DefaultKeyPrefix+":e").Val() == 1; i++ {
		require.Less(t, i, 20000, "the claim was never evicted")
		require.NoError(t, rdb.Set(ctx, "cache:"+strconv.Itoa(i), value, time.Hour).Err())
	}
	second, err := unchecked.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, second.Status, "evicted: a second instance handles the event too")
	t.Logf("the claim was evicted after %d evictions", evicted(t, rdb))

	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		require.NoError(t, rdb.ConfigSet(ctx, "maxmemory-policy", policy).Err())
		_, err := redisdedup.New(ctx, rdb)
		assert.ErrorIs(t, err, redisdedup.ErrEvictingPolicy, policy)
		assert.ErrorContains(t, err, "maxmemory-policy "+policy+",")
	}

	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
	d := newDedup(t, rdb)
	before := evicted(t, rdb)
	// Fill what eviction freed, with large values and then small ones, until
	// even a small write is refused.
	for _, v := range []string{value, "v"} {
		for i := 0; ; i++ {
			require.Less(t, i, 100000, "Redis never refused a write")
			if err := rdb.Set(ctx, "more:"+strconv.Itoa(len(v))+":"+strconv.Itoa(i), v, time.Hour).Err(); err != nil {
				require.ErrorContains(t, err, "OOM")
				break
			}
		}
	}
	_, err = d.Claim(ctx, "f")
	assert.ErrorContains(t, err, "OOM", "a full Redis refuses the claim")
	assert.Zero(t, rdb.Exists(ctx, redisdedup.DefaultKeyPrefix+":f").Val())
	c, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusInFlight, c.Status, "the claim in flight stays")
	assert.Equal(t, before, evicted(t, rdb), "nothing evicted under noeviction")
}

// TestPolicyReadWhereConfigIsRefused: a Redis that refuses CONFIG (renamed
// away, as managed services do) is checked through INFO memory, evicting
// policy and all. One whose user may run neither (an ACL) cannot be
// checked: New says so (ErrPolicyUnknown, with both answers) unless told
// WithoutPolicyCheck, after which the deduplicator works.
func TestPolicyReadWhereConfigIsRefused(t *testing.T) {
	evicting := startRedis(t, "--rename-command", "CONFIG", "", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	_, err := redisdedup.New(ctx, evicting.Client())
	assert.ErrorIs(t, err, redisdedup.ErrEvictingPolicy)
	assert.ErrorContains(t, err, "maxmemory-policy allkeys-lru,")

	r := startRedis(t, "--rename-command", "CONFIG", "")
	newDedup(t, r.Client()) // noeviction, read from INFO

	require.NoError(t, r.Client().Do(ctx, "ACL", "SETUSER", "app", "on", ">app-password", "~*", "+@all", "-config", "-info").Err())
	app := redis.NewClient(&redis.Options{Addr: r.Addr(), Username: "app", Password: "app-password", MaxRetries: -1})
	t.Cleanup(func() { app.Close() })
	_, err = redisdedup.New(ctx, app)
	require.ErrorIs(t, err, redisdedup.ErrPolicyUnknown)
	assert.NotErrorIs(t, err, redisdedup.ErrEvictingPolicy)
	for _, want := range []string{r.Addr(), "unknown command 'config'", "NOPERM", "'info'", "WithoutPolicyCheck"} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), "app-password")

	d := newDedup(t, app, redisdedup.WithoutPolicyCheck())
	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	require.NoError(t, d.Complete(ctx, "a", c.Token))
}

// TestNewNeedsRedisForTheCheck: without an answer New cannot check, and
// says Redis could not be reached (not that its policy is wrong or
// unknown); ctx bounds the wait.
func TestNewNeedsRedisForTheCheck(t *testing.T) {
	r := startRedis(t)
	rdb := r.Client()
	r.stop()
	_, err := redisdedup.New(ctx, rdb)
	require.Error(t, err)
	assert.ErrorContains(t, err, "redisdedup: reading the maxmemory-policy of "+r.Addr())
	assert.NotErrorIs(t, err, redisdedup.ErrEvictingPolicy)
	assert.NotErrorIs(t, err, redisdedup.ErrPolicyUnknown)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = redisdedup.New(cctx, redis.NewClient(&redis.Options{Addr: r.Addr(), ContextTimeoutEnabled: true}))
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestClaimCompleteRelease(t *testing.T) {
	r := startRedis(t)
	rdb := r.Client()
	d := newDedup(t, rdb, redisdedup.WithKeyPrefix("test:"), redisdedup.WithLease(10*time.Second), redisdedup.WithDoneTTL(time.Hour))

	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	assert.NotEmpty(t, c.Token)
	assert.Equal(t, 10*time.Second, c.Lease)
	ttl := rdb.PTTL(ctx, "test::a").Val()
	assert.True(t, ttl > 9*time.Second && ttl <= 10*time.Second, "an in-flight key lives for the lease: %s", ttl)

	again, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusInFlight, again.Status)

	assert.ErrorIs(t, d.Complete(ctx, "a", "someone else"), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "a", "someone else"), busifavor.ErrNotOwner)
	require.NoError(t, d.Complete(ctx, "a", c.Token))
	assert.Equal(t, "d:"+c.Token, rdb.Get(ctx, "test::a").Val(), "done, by its token")
	ttl = rdb.PTTL(ctx, "test::a").Val()
	assert.True(t, ttl > 59*time.Minute && ttl <= time.Hour, "a done key lives for the done TTL: %s", ttl)
	assert.ErrorIs(t, d.Release(ctx, "a", c.Token), busifavor.ErrNotOwner, "done is final")

	done, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status)

	b, err := d.Claim(ctx, "b")
	require.NoError(t, err)
	require.NoError(t, d.Release(ctx, "b", b.Token))
	assert.Zero(t, rdb.Exists(ctx, "test::b").Val(), "released: the key is gone")
	b2, err := d.Claim(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, b2.Status, "a released id is handled again")

	keys := rdb.Keys(ctx, "*").Val()
	sort.Strings(keys)
	assert.Equal(t, []string{"test::a", "test::b"}, keys, "the prefix is used")
}

func TestLeaseLapseAndTakeover(t *testing.T) {
	rdb := startRedis(t).Client()
	d := newDedup(t, rdb, redisdedup.WithLease(50*time.Millisecond))
	stale, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // well past the lease: Redis expires the key
	owner, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	require.Equal(t, busifavor.ClaimStatusClaimed, owner.Status, "the lapsed lease is taken over")

	// The stale owner can neither complete nor release the new owner's claim.
	assert.ErrorIs(t, d.Complete(ctx, "e", stale.Token), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "e", stale.Token), busifavor.ErrNotOwner)
	in, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusInFlight, in.Status, "the new owner still holds it")
	require.NoError(t, d.Complete(ctx, "e", owner.Token))
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	r := startRedis(t)
	// Two instances: two clients, one Redis.
	d1, d2 := newDedup(t, r.Client()), newDedup(t, r.Client())
	for i := range 50 {
		id := "event-" + string(rune('A'+i%26)) + time.Now().Format("150405.000000000")
		var wg sync.WaitGroup
		results := make(chan busifavor.ClaimStatus, 8)
		for j := range 8 {
			wg.Add(1)
			go func(d *redisdedup.Deduplicator) {
				defer wg.Done()
				c, err := d.Claim(ctx, id)
				if assert.NoError(t, err) {
					results <- c.Status
				}
			}([]*redisdedup.Deduplicator{d1, d2}[j%2])
		}
		wg.Wait()
		close(results)
		claimed := 0
		for s := range results {
			if s == busifavor.ClaimStatusClaimed {
				claimed++
			}
		}
		assert.Equal(t, 1, claimed, "id %s", id)
	}
}

func TestRedisDownIsAnError(t *testing.T) {
	r := startRedis(t)
	d := newDedup(t, r.Client())
	c, err := d.Claim(ctx, "x")
	require.NoError(t, err)
	r.stop()
	_, err = d.Claim(ctx, "y")
	assert.Error(t, err)
	assert.Error(t, d.Complete(ctx, "x", c.Token))
	assert.Error(t, d.Release(ctx, "x", c.Token))
	assert.NotErrorIs(t, d.Release(ctx, "x", c.Token), busifavor.ErrNotOwner, "unreachable is not 'not the owner'")
}
