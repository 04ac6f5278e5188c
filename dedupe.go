package busifavor

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Deduplicator remembers which notification ids are being or have been
// handled, so a redelivered notification is acknowledged without being
// handled twice. MemoryDeduplicator serves a single instance; a service with
// several instances backs it with shared storage, for example Redis
// (Claim: SET id 1 NX EX ttl; Release: DEL id) or a table with a unique key.
type Deduplicator interface {
	// Claim records id and reports true if it was not recorded already.
	Claim(ctx context.Context, id string) (bool, error)
	// Release forgets id, so that a redelivery is handled again. It is
	// called when handling failed.
	Release(ctx context.Context, id string) error
}

// Deduplicate wraps a notification handler function so that each event ID
// is handled once: a redelivery of an ID already claimed is acknowledged
// without calling fn, and a failed fn releases the ID so that WeChat Pay's
// next delivery is handled.
func Deduplicate(d Deduplicator, fn func(ctx context.Context, ev *CouponEvent) error) func(ctx context.Context, ev *CouponEvent) error {
	return func(ctx context.Context, ev *CouponEvent) error {
		fresh, err := d.Claim(ctx, ev.ID)
		if err != nil {
			return err
		}
		if !fresh {
			return nil
		}
		if err := fn(ctx, ev); err != nil {
			return errors.Join(err, d.Release(ctx, ev.ID))
		}
		return nil
	}
}

// MemoryDeduplicator is an in-process Deduplicator with a bounded size and a
// time to live, for a single-instance service. WeChat Pay redelivers for
// about 11 minutes (11 tries, 60 s apart), so a TTL of an hour covers every
// redelivery. When full, the oldest ID is forgotten first.
type MemoryDeduplicator struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	now     func() time.Time
	order   *list.List // of *claim, oldest first
	entries map[string]*list.Element
}

type claim struct {
	id string
	at time.Time
}

// NewMemoryDeduplicator remembers up to maxEntries IDs (at least 1), each for
// ttl (positive).
func NewMemoryDeduplicator(maxEntries int, ttl time.Duration) (*MemoryDeduplicator, error) {
	if maxEntries < 1 || ttl <= 0 {
		return nil, errors.New("busifavor: NewMemoryDeduplicator: maxEntries must be at least 1 and ttl positive")
	}
	return &MemoryDeduplicator{max: maxEntries, ttl: ttl, now: time.Now,
		order: list.New(), entries: make(map[string]*list.Element)}, nil
}

// Claim implements Deduplicator.
func (d *MemoryDeduplicator) Claim(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for e := d.order.Front(); e != nil && now.Sub(e.Value.(*claim).at) >= d.ttl; e = d.order.Front() {
		d.remove(e)
	}
	if _, seen := d.entries[id]; seen {
		return false, nil
	}
	if d.order.Len() >= d.max {
		d.remove(d.order.Front())
	}
	d.entries[id] = d.order.PushBack(&claim{id: id, at: now})
	return true, nil
}

// Release implements Deduplicator.
func (d *MemoryDeduplicator) Release(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.entries[id]; ok {
		d.remove(e)
	}
	return nil
}

// Len reports how many IDs are remembered.
func (d *MemoryDeduplicator) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}

func (d *MemoryDeduplicator) remove(e *list.Element) {
	delete(d.entries, e.Value.(*claim).id)
	d.order.Remove(e)
}
