package redisdedup_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/redisdedup"
)

var ctx = context.Background()

func TestClaimCompleteRelease(t *testing.T) {
	r := startRedis(t)
	rdb := r.Client()
	d := redisdedup.New(rdb, redisdedup.WithKeyPrefix("test:"), redisdedup.WithLease(10*time.Second), redisdedup.WithDoneTTL(time.Hour))

	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Claimed, c.Status)
	assert.NotEmpty(t, c.Token)
	assert.Equal(t, 10*time.Second, c.Lease)
	ttl := rdb.PTTL(ctx, "test:a").Val()
	assert.True(t, ttl > 9*time.Second && ttl <= 10*time.Second, "an in-flight key lives for the lease: %s", ttl)

	again, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.InFlight, again.Status)

	assert.ErrorIs(t, d.Complete(ctx, "a", "someone else"), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "a", "someone else"), busifavor.ErrNotOwner)
	require.NoError(t, d.Complete(ctx, "a", c.Token))
	assert.Equal(t, "d:"+c.Token, rdb.Get(ctx, "test:a").Val(), "done, by its token")
	ttl = rdb.PTTL(ctx, "test:a").Val()
	assert.True(t, ttl > 59*time.Minute && ttl <= time.Hour, "a done key lives for the done TTL: %s", ttl)
	assert.ErrorIs(t, d.Release(ctx, "a", c.Token), busifavor.ErrNotOwner, "done is final")

	done, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Done, done.Status)

	b, err := d.Claim(ctx, "b")
	require.NoError(t, err)
	require.NoError(t, d.Release(ctx, "b", b.Token))
	assert.Zero(t, rdb.Exists(ctx, "test:b").Val(), "released: the key is gone")
	b2, err := d.Claim(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Claimed, b2.Status, "a released id is handled again")

	keys := rdb.Keys(ctx, "*").Val()
	sort.Strings(keys)
	assert.Equal(t, []string{"test:a", "test:b"}, keys, "the prefix is used")
}

func TestLeaseLapseAndTakeover(t *testing.T) {
	rdb := startRedis(t).Client()
	d := redisdedup.New(rdb, redisdedup.WithLease(50*time.Millisecond))
	stale, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // well past the lease: Redis expires the key
	owner, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	require.Equal(t, busifavor.Claimed, owner.Status, "the lapsed lease is taken over")

	// The stale owner can neither complete nor release the new owner's claim.
	assert.ErrorIs(t, d.Complete(ctx, "e", stale.Token), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "e", stale.Token), busifavor.ErrNotOwner)
	in, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.InFlight, in.Status, "the new owner still holds it")
	require.NoError(t, d.Complete(ctx, "e", owner.Token))
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	r := startRedis(t)
	// Two instances: two clients, one Redis.
	d1, d2 := redisdedup.New(r.Client()), redisdedup.New(r.Client())
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
			if s == busifavor.Claimed {
				claimed++
			}
		}
		assert.Equal(t, 1, claimed, "id %s", id)
	}
}

func TestRedisDownIsAnError(t *testing.T) {
	r := startRedis(t)
	d := redisdedup.New(r.Client())
	c, err := d.Claim(ctx, "x")
	require.NoError(t, err)
	r.stop()
	_, err = d.Claim(ctx, "y")
	assert.Error(t, err)
	assert.Error(t, d.Complete(ctx, "x", c.Token))
	assert.Error(t, d.Release(ctx, "x", c.Token))
	assert.NotErrorIs(t, d.Release(ctx, "x", c.Token), busifavor.ErrNotOwner, "unreachable is not 'not the owner'")
}
