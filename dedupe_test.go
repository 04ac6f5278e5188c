package busifavor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// clock is a settable clock for deduplicators.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryDeduplicatorStates(t *testing.T) {
	clk := newClock()
	d, err := busifavor.NewMemoryDeduplicator(10, time.Minute, busifavor.WithLease(10*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)

	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Claimed, c.Status)
	assert.Equal(t, 10*time.Second, c.Lease)
	again, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.InFlight, again.Status)
	assert.Empty(t, again.Token)

	clk.Add(9999 * time.Millisecond)
	again, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.InFlight, again.Status, "just inside the lease")
	clk.Add(time.Millisecond)
	taken, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.Claimed, taken.Status, "the lapsed lease is taken over")
	assert.NotEqual(t, c.Token, taken.Token)

	// The first owner's lease lapsed and was taken over: it can neither
	// complete nor release.
	assert.ErrorIs(t, d.Complete(ctx, "a", c.Token), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "a", c.Token), busifavor.ErrNotOwner)
	require.NoError(t, d.Complete(ctx, "a", taken.Token))
	assert.ErrorIs(t, d.Complete(ctx, "a", taken.Token), busifavor.ErrNotOwner, "done is final")
	assert.ErrorIs(t, d.Release(ctx, "a", taken.Token), busifavor.ErrNotOwner, "a done id is not released")

	done, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.Done, done.Status)
	clk.Add(time.Minute - time.Millisecond)
	done, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.Done, done.Status, "just inside the TTL")
	clk.Add(time.Millisecond)
	fresh, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.Claimed, fresh.Status, "forgotten once the TTL has passed")

	require.NoError(t, d.Release(ctx, "a", fresh.Token))
	fresh, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.Claimed, fresh.Status, "a released id is handled again")
	assert.ErrorIs(t, d.Release(ctx, "never-claimed", "x"), busifavor.ErrNotOwner)

	for _, bad := range []func() error{
		func() error { _, err := busifavor.NewMemoryDeduplicator(0, time.Minute); return err },
		func() error { _, err := busifavor.NewMemoryDeduplicator(1, 0); return err },
		func() error {
			_, err := busifavor.NewMemoryDeduplicator(1, time.Minute, busifavor.WithLease(0))
			return err
		},
		func() error { _, err := busifavor.NewMemoryDeduplicator(1, time.Minute, nil); return err },
		func() error {
			_, err := busifavor.NewMemoryDeduplicator(1, time.Minute, busifavor.WithMemoryClock(nil))
			return err
		},
	} {
		assert.Error(t, bad())
	}
}

func TestMemoryDeduplicatorNeverEvictsAnIDInFlight(t *testing.T) {
	clk := newClock()
	d, err := busifavor.NewMemoryDeduplicator(2, time.Minute, busifavor.WithLease(10*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)
	a, _ := d.Claim(ctx, "a")
	b, _ := d.Claim(ctx, "b")
	_, err = d.Claim(ctx, "c")
	require.Error(t, err, "full of ids in flight: refused, not evicted")
	assert.Equal(t, 2, d.Len())
	again, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.InFlight, again.Status, "a is still known to be in flight")

	// A done id makes room.
	require.NoError(t, d.Complete(ctx, "a", a.Token))
	c, err := d.Claim(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Claimed, c.Status)
	assert.Equal(t, 2, d.Len(), "bounded")

	// A lapsed lease makes room too.
	clk.Add(10 * time.Second)
	e, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.Claimed, e.Status)
	assert.Equal(t, 2, d.Len())
	_ = b
}

// failing wraps a Deduplicator and fails the methods it is told to.
type failing struct {
	busifavor.Deduplicator
	claim, complete, release atomic.Int32 // failures left
}

var errStore = errors.New("store unreachable")

func (f *failing) Claim(ctx context.Context, id string) (busifavor.Claim, error) {
	if f.claim.Add(-1) >= 0 {
		return busifavor.Claim{}, errStore
	}
	return f.Deduplicator.Claim(ctx, id)
}

func (f *failing) Complete(ctx context.Context, id, token string) error {
	if f.complete.Add(-1) >= 0 {
		return errStore
	}
	return f.Deduplicator.Complete(ctx, id, token)
}

func (f *failing) Release(ctx context.Context, id, token string) error {
	if f.release.Add(-1) >= 0 {
		return errStore
	}
	return f.Deduplicator.Release(ctx, id, token)
}

// dedupScene is a handler wrapped with Deduplicate, and one notification to
// deliver to it again and again.
type dedupScene struct {
	handler http.Handler
	header  http.Header
	body    []byte
	logs    *bytes.Buffer
	calls   atomic.Int32 // fn calls
	handled atomic.Int32 // fn calls that succeeded
}

func newDedupScene(t *testing.T, d busifavor.Deduplicator, fn func(call int32) error) *dedupScene {
	t.Helper()
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	sc := &dedupScene{logs: &bytes.Buffer{}}
	sc.header, sc.body = s.CouponNotification(sampleCoupon)
	p := newParser(t, s, busifavor.WithEventLogger(slog.New(slog.NewTextHandler(sc.logs, nil))))
	sc.handler = busifavor.NewEventHandler(p, busifavor.Deduplicate(d, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		if err := fn(sc.calls.Add(1)); err != nil {
			return err
		}
		sc.handled.Add(1)
		return nil
	}))
	return sc
}

func (sc *dedupScene) deliver() int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(sc.body))
	req.Header = sc.header.Clone()
	sc.handler.ServeHTTP(rec, req)
	return rec.Code
}

func TestDeduplicatedDeliveries(t *testing.T) {
	newMem := func(t *testing.T, clk *clock) *busifavor.MemoryDeduplicator {
		d, err := busifavor.NewMemoryDeduplicator(100, time.Hour, busifavor.WithLease(30*time.Second), busifavor.WithMemoryClock(clk.Now))
		require.NoError(t, err)
		return d
	}

	t.Run("fn fails, then the redelivery is handled", func(t *testing.T) {
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				return errors.New("database down")
			}
			return nil
		})
		assert.Equal(t, []int{500, 204, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 2, sc.calls.Load())
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("fn panics, then the redelivery is handled", func(t *testing.T) {
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				panic("nil map")
			}
			return nil
		})
		assert.Equal(t, []int{500, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.handled.Load())
		assert.Contains(t, sc.logs.String(), "panic: nil map")
		assert.NotContains(t, sc.logs.String(), string(sc.body[:40]), "the body is not logged")
	})

	t.Run("release fails, then the lease lapses and a redelivery is handled", func(t *testing.T) {
		clk := newClock()
		f := &failing{Deduplicator: newMem(t, clk)}
		f.release.Store(1)
		sc := newDedupScene(t, f, func(call int32) error {
			if call == 1 {
				return errors.New("database down")
			}
			return nil
		})
		assert.Equal(t, 500, sc.deliver())
		assert.Equal(t, 409, sc.deliver(), "still claimed: never 2xx")
		clk.Add(30 * time.Second)
		assert.Equal(t, []int{204, 204}, []int{sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("a delivery while the first is in flight gets 409; the first fails; the next is handled", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				close(started)
				<-release
				return errors.New("failed after all")
			}
			return nil
		})
		first := make(chan int)
		go func() { first <- sc.deliver() }()
		<-started
		assert.Equal(t, 409, sc.deliver())
		close(release)
		assert.Equal(t, 500, <-first)
		assert.Equal(t, 204, sc.deliver())
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("the deduplicator is unreachable: 503, fn not called", func(t *testing.T) {
		f := &failing{Deduplicator: newMem(t, newClock())}
		f.claim.Store(2)
		sc := newDedupScene(t, f, func(int32) error { return nil })
		assert.Equal(t, []int{503, 503, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.calls.Load())
		assert.Contains(t, sc.logs.String(), "store unreachable")
	})

	t.Run("complete fails: 204, logged, fn not called again while the lease holds", func(t *testing.T) {
		f := &failing{Deduplicator: newMem(t, newClock())}
		f.complete.Store(1)
		sc := newDedupScene(t, f, func(int32) error { return nil })
		assert.Equal(t, 204, sc.deliver())
		assert.Contains(t, sc.logs.String(), "handled but not recorded")
		assert.Equal(t, 409, sc.deliver())
		assert.EqualValues(t, 1, sc.calls.Load())
	})

	t.Run("memory full of ids in flight: 503 for a new id", func(t *testing.T) {
		d, err := busifavor.NewMemoryDeduplicator(1, time.Hour)
		require.NoError(t, err)
		_, err = d.Claim(ctx, "another event, in flight")
		require.NoError(t, err)
		sc := newDedupScene(t, d, func(int32) error { return nil })
		assert.Equal(t, 503, sc.deliver())
		assert.Zero(t, sc.calls.Load())
	})

	t.Run("fn's context ends with the lease", func(t *testing.T) {
		d := newMem(t, newClock())
		var left time.Duration
		fn := busifavor.Deduplicate(d, func(ctx context.Context, ev *busifavor.CouponEvent) error {
			deadline, _ := ctx.Deadline()
			left = time.Until(deadline)
			return ctx.Err()
		})
		require.NoError(t, fn(ctx, &busifavor.CouponEvent{ID: "x"}))
		assert.True(t, left > 0 && left <= 30*time.Second, "%s left of a 30s lease", left)
	})
}

// TestMemoryDeduplicatorUnderConcurrency has goroutines race over a few ids,
// claiming, then completing or releasing at random: at no moment do two
// hold the same id, an id is completed at most once, and a completed id
// stays done.
func TestMemoryDeduplicatorUnderConcurrency(t *testing.T) {
	d, err := busifavor.NewMemoryDeduplicator(100, time.Hour)
	require.NoError(t, err)
	const ids = 8
	var holders, completions [ids]atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := (g*7 + i) % ids
				id := string(rune('a' + n))
				c, err := d.Claim(ctx, id)
				if !assert.NoError(t, err) {
					return
				}
				switch c.Status {
				case busifavor.Done:
					assert.EqualValues(t, 1, completions[n].Load(), "done only after a completion")
				case busifavor.Claimed:
					if h := holders[n].Add(1); h != 1 {
						t.Errorf("%d holders of %s", h, id)
					}
					holders[n].Add(-1)
					if i%5 == 0 {
						assert.EqualValues(t, 1, completions[n].Add(1), "completed once")
						assert.NoError(t, d.Complete(ctx, id, c.Token))
					} else {
						assert.NoError(t, d.Release(ctx, id, c.Token))
					}
				}
			}
		}()
	}
	wg.Wait()
}
