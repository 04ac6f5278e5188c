package busifavor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryDeduplicatorBounds(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d, err := NewMemoryDeduplicator(2, time.Minute)
	require.NoError(t, err)
	d.now = func() time.Time { return now }

	fresh, _ := d.Claim(ctx, "a")
	assert.True(t, fresh)
	fresh, _ = d.Claim(ctx, "a")
	assert.False(t, fresh, "a repeat within the TTL")

	now = now.Add(59 * time.Second)
	fresh, _ = d.Claim(ctx, "a")
	assert.False(t, fresh, "just inside the TTL")
	now = now.Add(time.Second)
	fresh, _ = d.Claim(ctx, "a")
	assert.True(t, fresh, "forgotten once the TTL has passed")

	fresh, _ = d.Claim(ctx, "b")
	assert.True(t, fresh)
	fresh, _ = d.Claim(ctx, "c")
	assert.True(t, fresh)
	assert.Equal(t, 2, d.Len(), "bounded")
	fresh, _ = d.Claim(ctx, "a")
	assert.True(t, fresh, "the oldest was evicted to make room")

	require.NoError(t, d.Release(ctx, "a"))
	fresh, _ = d.Claim(ctx, "a")
	assert.True(t, fresh, "released ids are handled again")
	require.NoError(t, d.Release(ctx, "never-claimed"))

	_, err = NewMemoryDeduplicator(0, time.Minute)
	assert.Error(t, err)
	_, err = NewMemoryDeduplicator(1, 0)
	assert.Error(t, err)
}
