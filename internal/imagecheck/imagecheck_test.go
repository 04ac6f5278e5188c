package imagecheck

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encoded(t testing.TB, enc func(*bytes.Buffer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, enc(&b, img))
	return b.Bytes()
}

func pngOf(t testing.TB, img image.Image) []byte {
	return encoded(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }, img)
}

func jpegOf(t testing.TB, img image.Image) []byte {
	return encoded(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }, img)
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// with returns a copy of b with v written little-endian at off.
func with(b []byte, off int, v any) []byte {
	c := bytes.Clone(b)
	var w bytes.Buffer
	_ = binary.Write(&w, binary.LittleEndian, v)
	copy(c[off:], w.Bytes())
	return c
}

// Images written by the standard library's encoders and by ImageMagick
// (testdata/README.md) pass, in every BMP variant the format defines that
// an encoder here writes: 1, 4, 16, 24 and 32 bits, RLE8, bitfields, the
// V5 and OS/2 core headers, top-down rows.
func TestCheckAcceptsImages(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 3, 2))
	rgba.Set(1, 1, color.RGBA{R: 255, A: 255})
	paletted := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White})
	rgb24 := testdata(t, "rgb24.bmp")
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"png", PNG, pngOf(t, rgba)},
		{"paletted png", PNG, pngOf(t, paletted)},
		{"1×1 png", PNG, pngOf(t, image.NewGray(image.Rect(0, 0, 1, 1)))},
		{"jpeg", JPEG, jpegOf(t, rgba)},
		{"gray jpeg", JPEG, jpegOf(t, image.NewGray(image.Rect(0, 0, 9, 9)))},
		{"progressive jpeg", JPEG, testdata(t, "prog.jpg")},
		{"1-bit bmp", BMP, testdata(t, "mono1.bmp")},
		{"4-bit bmp", BMP, testdata(t, "pal4.bmp")},
		{"RLE8 bmp", BMP, testdata(t, "rle8.bmp")},
		{"24-bit bmp", BMP, rgb24},
		{"top-down 24-bit bmp", BMP, with(rgb24, 22, int32(-3))},
		{"16-bit bitfields bmp", BMP, testdata(t, "rgb565.bmp")},
		{"32-bit V5 bmp", BMP, testdata(t, "v5argb.bmp")},
		{"OS/2 core header bmp", BMP, testdata(t, "os2.bmp")},
		{"bmp with bytes after its pixels", BMP, append(bytes.Clone(rgb24), 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// What only starts like an image is refused with the reason: the review's
// BM<html>, BMxx and PNG magic followed by garbage, and every header field a
// BMP must get right, each just past its limit.
func TestCheckRefusesWhatOnlyStartsLikeAnImage(t *testing.T) {
	rgb24 := testdata(t, "rgb24.bmp") // 7×3, 24 bits, pixels at 54, 126 bytes
	require.Len(t, rgb24, 54+3*24)
	for _, tc := range []struct {
		name, why string
		data      []byte
	}{
		{"BM<html>", "DIB header size", []byte("BM<html><body>this is a web page, not a bitmap</body></html>")},
		{"BMxx", "shorter than a BMP file header", []byte("BMxx")},
		{"png magic and garbage", "starts as a PNG", append(bytes.Clone(pngMagic), "garbage garbage garbage"...)},
		{"png magic alone", "starts as a PNG", bytes.Clone(pngMagic)},
		{"png with a broken IHDR checksum", "starts as a PNG", with(pngOf(t, image.NewGray(image.Rect(0, 0, 2, 2))), 29, uint8(0))},
		{"jpeg magic and garbage", "starts as a JPEG", append(bytes.Clone(jpegMagic), "garbage garbage garbage"...)},
		{"jpeg cut after SOI", "starts as a JPEG", jpegOf(t, image.NewGray(image.Rect(0, 0, 2, 2)))[:4]},
		{"html", "text/html", []byte("<html>not a logo</html>")},
		{"gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
		{"empty", "text/plain", nil},
		{"bmp one byte short of its pixels", "do not fit", rgb24[:len(rgb24)-1]},
		{"bmp cut inside its DIB header", "ends inside", rgb24[:14+39]},
		{"bmp DIB header size 41", "DIB header size 41", with(rgb24, 14, uint32(41))},
		{"bmp 2 planes", "2 colour planes", with(rgb24, 26, uint16(2))},
		{"bmp 7 bits per pixel", "7 bits per pixel", with(rgb24, 28, uint16(7))},
		{"bmp compression 7", "compression method 7", with(rgb24, 30, uint32(7))},
		{"bmp RLE8 at 24 bits", "24 bits per pixel does not go with compression method 1", with(rgb24, 30, uint32(biRLE8))},
		{"bmp 0 wide", "0×3", with(rgb24, 18, int32(0))},
		{"bmp 0 high", "7×0", with(rgb24, 22, int32(0))},
		{"bmp pixels inside the headers", "start at byte 53", with(rgb24, 10, uint32(53))},
		{"bmp pixels past the end", "start at byte 126", with(rgb24, 10, uint32(126))},
		{"bmp of 2^31 × 2^31 pixels", "do not fit", with(with(rgb24, 18, int32(1<<31-1)), 22, int32(-1<<31))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.data)
			require.Error(t, err)
			assert.Empty(t, got)
			assert.Contains(t, err.Error(), tc.why)
		})
	}
}

// The error never quotes the data: an image's bytes could be anything.
func TestCheckErrorQuotesNoBytes(t *testing.T) {
	_, err := Check([]byte("BM<html>secret-token-123</html>"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.NotContains(t, err.Error(), "html")
}

// Check never panics, whatever the bytes.
func FuzzCheck(f *testing.F) {
	f.Add([]byte("BM<html>"))
	f.Add(testdata(f, "rgb24.bmp"))
	f.Add(testdata(f, "os2.bmp"))
	f.Add(pngOf(f, image.NewGray(image.Rect(0, 0, 2, 2))))
	f.Add(jpegOf(f, image.NewGray(image.Rect(0, 0, 2, 2))))
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := Check(data)
		if err == nil {
			assert.Contains(t, []string{JPEG, PNG, BMP}, ct)
		}
	})
}
