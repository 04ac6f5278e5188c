package busifavortest

import "time"

// WithServeTimeoutsForTest shortens the HTTP server's header timeout and
// Close's wait for requests under way, so that tests of them are quick.
func WithServeTimeoutsForTest(readHeader, shutdown time.Duration) Option {
	return func(c *config) { c.timeouts.readHeader, c.timeouts.shutdown = readHeader, shutdown }
}
