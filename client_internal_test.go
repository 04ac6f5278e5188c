package busifavor

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadAnswerWhateverContentLengthSays: readAnswer reads what io.ReadAll
// reads, whether the Content-Length it sizes its buffer from is right, too
// small, too large, unknown or beyond MaxResponseBytes, and one byte at a
// time; and it returns a read error.
func TestReadAnswerWhateverContentLengthSays(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 70000} {
		body := bytes.Repeat([]byte("a"), size)
		for _, cl := range []int64{int64(size), int64(size) - 1, int64(size) + 1, 0, -1, 3, MaxResponseBytes + 1} {
			got, err := readAnswer(bytes.NewReader(body), cl)
			require.NoError(t, err)
			assert.Equal(t, body, got, "size %d, Content-Length %d", size, cl)
			got, err = readAnswer(iotest.OneByteReader(bytes.NewReader(body)), cl)
			require.NoError(t, err)
			assert.Equal(t, body, got, "one byte at a time: size %d, Content-Length %d", size, cl)
		}
	}
	boom := errors.New("boom")
	_, err := readAnswer(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 3)
	assert.ErrorIs(t, err, boom)
}
