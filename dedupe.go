package busifavor

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Deduplicator remembers, per event id, whether the event is unseen, in
// flight (claimed by one delivery, for a lease) or done (handled to
// completion, remembered for a TTL covering WeChat Pay's redelivery window).
// Deduplicate uses it so that each event is handled to completion once and
// none is lost while WeChat Pay still redelivers. NewMemoryDeduplicator
// serves one instance; package github.com/busifavor-go/busifavor/redisdedup
// serves several instances sharing a Redis.
//
// Implementations must make each method atomic, and Complete and Release
// owner-checked: they act only while token still owns the id, so that a
// delivery whose lease lapsed, and whose id another delivery then claimed,
// cannot clobber the new owner.
type Deduplicator interface {
	// Claim takes id for handling if it is unseen or its lease has lapsed
	// (Status Claimed, with a new Token and the lease's length), and otherwise
	// reports InFlight or Done. An error means the state is unknown: nothing
	// was claimed.
	Claim(ctx context.Context, id string) (Claim, error)
	// Complete marks id done, remembered for the TTL. It returns
	// ErrNotOwner if token no longer owns id.
	Complete(ctx context.Context, id, token string) error
	// Release forgets id, so that the next delivery handles it. It returns
	// ErrNotOwner if token no longer owns id.
	Release(ctx context.Context, id, token string) error
}

// ClaimStatus is what Claim found for an id.
type ClaimStatus int

// The states an id can be found in.
const (
	// Claimed: the id was unseen or its lease had lapsed; the caller owns it
	// for Claim.Lease.
	Claimed ClaimStatus = iota + 1
	// InFlight: another delivery owns the id and its lease has not lapsed.
	InFlight
	// Done: the id was handled to completion within the TTL.
	Done
)

// String names the status.
func (s ClaimStatus) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InFlight:
		return "in flight"
	case Done:
		return "done"
	}
	return fmt.Sprintf("ClaimStatus(%d)", int(s))
}

// Claim is the result of Deduplicator.Claim.
type Claim struct {
	Status ClaimStatus
	// Token identifies the claim when Status is Claimed; Complete and
	// Release need it.
	Token string
	// Lease is how long the claim lasts, from Claim's call, when Status is
	// Claimed: Deduplicate ends the handler function's context then.
	Lease time.Duration
}

// Deduplication errors.
var (
	// ErrInFlight: another delivery of the same event is being handled.
	// NewEventHandler answers it with 409, so that WeChat Pay delivers
	// again later, when the first delivery has either completed (and the
	// event is acknowledged) or failed (and the event is handled).
	ErrInFlight = errors.New("busifavor: the event is being handled by another delivery")
	// ErrNotOwner: Complete or Release by a delivery whose lease lapsed and
	// whose id another delivery has claimed since.
	ErrNotOwner = errors.New("busifavor: the claim on the event was lost (its lease lapsed)")
	// ErrDeduplicator: the deduplicator could not say whether the event was
	// seen (unreachable, full, …). Nothing was handled; NewEventHandler
	// answers 503, so that WeChat Pay delivers again later.
	ErrDeduplicator = errors.New("busifavor: deduplicator unavailable")
	// ErrHandledNotRecorded: the handler function succeeded but the
	// deduplicator could not record it (Complete failed). The event was
	// handled: do not handle it again. NewEventHandler answers 204 and logs
	// the failure; the id becomes claimable again when its lease lapses.
	ErrHandledNotRecorded = errors.New("busifavor: event handled, but the deduplicator did not record it")
)

// Deduplicate wraps a notification handler function so that each event id
// is handled to completion once:
//
//   - an unseen id is claimed and fn is called, with a context that ends
//     when the claim's lease lapses; success marks the id done, an error or
//     a panic releases it (the panic goes on, for NewEventHandler to
//     recover), so that WeChat Pay's next delivery is handled;
//   - a done id returns nil without calling fn;
//   - an id in flight returns ErrInFlight without calling fn;
//   - when the deduplicator fails, the error matches ErrDeduplicator and fn
//     is not called.
//
// fn should finish well within the lease (WeChat Pay waits only 5 s
// anyway): a delivery arriving after the lease lapsed claims the id again.
func Deduplicate(d Deduplicator, fn func(ctx context.Context, ev *CouponEvent) error) func(ctx context.Context, ev *CouponEvent) error {
	return func(ctx context.Context, ev *CouponEvent) (err error) {
		c, err := d.Claim(ctx, ev.ID)
		if err != nil {
			return fmt.Errorf("%w: claiming event %s: %w", ErrDeduplicator, ev.ID, err)
		}
		switch c.Status {
		case Done:
			return nil
		case InFlight:
			return fmt.Errorf("%w: event %s", ErrInFlight, ev.ID)
		case Claimed:
		default:
			return fmt.Errorf("%w: claiming event %s: unknown status %v", ErrDeduplicator, ev.ID, c.Status)
		}
		// The deduplicator is told the outcome even when the delivery's own
		// context has ended (WeChat Pay hung up), within a bound of its own.
		record, cancelRecord := context.WithTimeout(context.WithoutCancel(ctx), c.Lease)
		defer cancelRecord()
		handled := false
		defer func() {
			if handled {
				return
			}
			if rerr := d.Release(record, ev.ID, c.Token); rerr != nil {
				// The lease lapses on its own; until then redeliveries get 409.
				err = errors.Join(err, fmt.Errorf("releasing event %s: %w", ev.ID, rerr))
			}
		}()
		fnCtx, cancel := context.WithTimeout(ctx, c.Lease)
		defer cancel()
		if err := fn(fnCtx, ev); err != nil {
			return err
		}
		handled = true
		if err := d.Complete(record, ev.ID, c.Token); err != nil {
			return fmt.Errorf("%w: event %s: %w", ErrHandledNotRecorded, ev.ID, err)
		}
		return nil
	}
}

// Deduplicator defaults.
const (
	// DefaultLease is how long a claim lasts before another delivery may
	// take the id over: longer than WeChat Pay's 5 s wait, shorter than its
	// 60 s between deliveries, so a claim left by a crashed process has
	// lapsed when the next delivery comes.
	DefaultLease = 30 * time.Second
)

// MemoryDeduplicator is an in-process Deduplicator for a single instance,
// with a bounded size and a TTL for done ids. WeChat Pay redelivers for
// about 11 minutes (11 tries, 60 s apart), so a TTL of an hour covers every
// redelivery. When full, the oldest done id is forgotten to make room; an id
// in flight never is: a claim that would need it is refused with an error
// matching ErrDeduplicator (NewEventHandler answers 503, and WeChat Pay
// delivers again later).
type MemoryDeduplicator struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	lease   time.Duration
	now     func() time.Time
	done    *list.List // of *memEntry in done state, oldest first (and so soonest to expire)
	entries map[string]*memEntry
}

// memEntry is one id's state.
type memEntry struct {
	id    string
	token string        // "" once done
	until time.Time     // lease end (in flight) or expiry (done)
	elem  *list.Element // in done, when done
}

// MemoryOption configures a MemoryDeduplicator in NewMemoryDeduplicator.
type MemoryOption func(*MemoryDeduplicator) error

// WithLease sets how long a claim lasts (default DefaultLease).
func WithLease(d time.Duration) MemoryOption {
	return func(m *MemoryDeduplicator) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithLease: %s is not positive", d)
		}
		m.lease = d
		return nil
	}
}

// WithMemoryClock sets the clock leases and TTLs are measured with (default
// time.Now), for tests.
func WithMemoryClock(now func() time.Time) MemoryOption {
	return func(m *MemoryDeduplicator) error {
		if now == nil {
			return errors.New("busifavor: WithMemoryClock: nil clock")
		}
		m.now = now
		return nil
	}
}

// NewMemoryDeduplicator remembers up to maxEntries ids (at least 1), done
// ones for ttl (positive).
func NewMemoryDeduplicator(maxEntries int, ttl time.Duration, opts ...MemoryOption) (*MemoryDeduplicator, error) {
	if maxEntries < 1 || ttl <= 0 {
		return nil, errors.New("busifavor: NewMemoryDeduplicator: maxEntries must be at least 1 and ttl positive")
	}
	m := &MemoryDeduplicator{max: maxEntries, ttl: ttl, lease: DefaultLease, now: time.Now,
		done: list.New(), entries: make(map[string]*memEntry)}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("busifavor: NewMemoryDeduplicator: nil MemoryOption")
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// errMemoryFull is a claim refused because every remembered id is in flight.
var errMemoryFull = errors.New("every remembered id is in flight; raise maxEntries")

// Claim implements Deduplicator.
func (m *MemoryDeduplicator) Claim(_ context.Context, id string) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.expire(now)
	if e, ok := m.entries[id]; ok {
		switch {
		case e.token == "":
			return Claim{Status: Done}, nil
		case now.Before(e.until):
			return Claim{Status: InFlight}, nil
		}
		m.remove(e) // a lapsed lease: take it over
	}
	if len(m.entries) >= m.max && !m.makeRoom(now) {
		return Claim{}, errMemoryFull
	}
	e := &memEntry{id: id, token: newToken(), until: now.Add(m.lease)}
	m.entries[id] = e
	return Claim{Status: Claimed, Token: e.token, Lease: m.lease}, nil
}

// Complete implements Deduplicator.
func (m *MemoryDeduplicator) Complete(_ context.Context, id, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.owned(id, token)
	if err != nil {
		return err
	}
	e.token, e.until = "", m.now().Add(m.ttl)
	e.elem = m.done.PushBack(e)
	return nil
}

// Release implements Deduplicator.
func (m *MemoryDeduplicator) Release(_ context.Context, id, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.owned(id, token)
	if err != nil {
		return err
	}
	m.remove(e)
	return nil
}

// owned returns id's entry if token holds it in flight, else ErrNotOwner.
// A lapsed lease not yet taken over still counts as held.
func (m *MemoryDeduplicator) owned(id, token string) (*memEntry, error) {
	e, ok := m.entries[id]
	if !ok || e.token == "" || e.token != token {
		return nil, ErrNotOwner
	}
	return e, nil
}

// Len reports how many ids are remembered, in flight and done.
func (m *MemoryDeduplicator) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// expire forgets done ids past their TTL.
func (m *MemoryDeduplicator) expire(now time.Time) {
	for f := m.done.Front(); f != nil && !now.Before(f.Value.(*memEntry).until); f = m.done.Front() {
		m.remove(f.Value.(*memEntry))
	}
}

// makeRoom frees one place: the oldest done id, else a lapsed lease. It
// reports false when every id is in flight.
func (m *MemoryDeduplicator) makeRoom(now time.Time) bool {
	if f := m.done.Front(); f != nil {
		m.remove(f.Value.(*memEntry))
		return true
	}
	for _, e := range m.entries { // all in flight: only reached when full of them
		if !now.Before(e.until) {
			m.remove(e)
			return true
		}
	}
	return false
}

func (m *MemoryDeduplicator) remove(e *memEntry) {
	if e.elem != nil {
		m.done.Remove(e.elem)
	}
	delete(m.entries, e.id)
}

// newToken returns a random claim token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
