// Package imagecheck tells whether bytes are a JPG, PNG or BMP image, the
// formats the marketing image upload takes (图片上传(营销专用): 媒体图片只支持
// JPG、BMP、PNG格式). The SDK's UploadImageRequest.Validate and the fake's
// upload handler both use it, so they refuse the same files.
//
// The first bytes name a format (its magic number), and that format's header
// must then parse: PNG and JPEG by the standard library's DecodeConfig, BMP
// by the header check below, written from the BMP file format
// (BITMAPFILEHEADER followed by a DIB header). Only the header is read:
// an image whose pixel data is damaged after a valid header passes, as it
// would pass any check that does not decode every pixel.
package imagecheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
)

// Content types of the three formats, as the file part's Content-Type.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	BMP  = "image/bmp"
)

// Magic numbers that open each format.
var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
	bmpMagic  = []byte("BM")
)

// Check returns the content type of data, a JPG, PNG or BMP image whose
// header parses, or an error saying what data is instead: another type
// (as http.DetectContentType names it), or the format its first bytes claim
// and why its header does not parse. The error quotes no byte of data.
func Check(data []byte) (contentType string, err error) {
	var w, h int
	switch {
	case bytes.HasPrefix(data, pngMagic):
		contentType = PNG
		c, e := png.DecodeConfig(bytes.NewReader(data))
		w, h, err = c.Width, c.Height, e
	case bytes.HasPrefix(data, jpegMagic):
		contentType = JPEG
		c, e := jpeg.DecodeConfig(bytes.NewReader(data))
		w, h, err = c.Width, c.Height, e
	case bytes.HasPrefix(data, bmpMagic):
		contentType = BMP
		w, h, err = bmpSize(data)
	default:
		t, _, _ := strings.Cut(http.DetectContentType(data), ";")
		return "", fmt.Errorf("its bytes look like %s, not a JPG, BMP or PNG image", t)
	}
	if err == nil && (w <= 0 || h <= 0) {
		err = fmt.Errorf("it is %d×%d pixels", w, h)
	}
	if err != nil {
		name := map[string]string{PNG: "PNG", JPEG: "JPEG", BMP: "BMP"}[contentType]
		return "", fmt.Errorf("it starts as a %s but its header does not parse: %v", name, err)
	}
	return contentType, nil
}

// BMP layout (all fields little-endian): a 14-byte BITMAPFILEHEADER
// ("BM", bfSize, two reserved words, bfOffBits: where the pixels start),
// then a DIB header whose first field is its own size.
const bmpFileHeaderLen = 14

// bmpHeaderSizes are the DIB header sizes the format defines:
// BITMAPCOREHEADER (12), OS/2 BITMAPCOREHEADER2 (16 or 64),
// BITMAPINFOHEADER (40), BITMAPV2INFOHEADER (52), BITMAPV3INFOHEADER (56),
// BITMAPV4HEADER (108), BITMAPV5HEADER (124).
var bmpHeaderSizes = map[uint32]bool{12: true, 16: true, 40: true, 52: true, 56: true, 64: true, 108: true, 124: true}

// BMP compression methods (biCompression).
const (
	biRGB            = 0
	biRLE8           = 1
	biRLE4           = 2
	biBitfields      = 3
	biJPEG           = 4
	biPNG            = 5
	biAlphaBitfields = 6
)

// bmpSize checks a BMP's file and DIB headers and returns its size in
// pixels. Beyond the header it checks only that the pixels start inside the
// file and, when they are stored uncompressed, that every row is there.
func bmpSize(data []byte) (w, h int, err error) {
	if len(data) < bmpFileHeaderLen+4 {
		return 0, 0, errors.New("shorter than a BMP file header")
	}
	le := binary.LittleEndian
	offBits := le.Uint32(data[10:14])
	dib := le.Uint32(data[14:18])
	if !bmpHeaderSizes[dib] {
		return 0, 0, fmt.Errorf("DIB header size %d is none of the BMP format's (12, 16, 40, 52, 56, 64, 108, 124)", dib)
	}
	if uint64(len(data)) < bmpFileHeaderLen+uint64(dib) {
		return 0, 0, fmt.Errorf("the file ends inside its %d-byte DIB header", dib)
	}
	d := data[bmpFileHeaderLen:]
	var width, height int64
	var planes, bpp uint16
	var compression uint32 = biRGB
	if dib == 12 { // BITMAPCOREHEADER: 16-bit unsigned sizes
		width, height = int64(le.Uint16(d[4:6])), int64(le.Uint16(d[6:8]))
		planes, bpp = le.Uint16(d[8:10]), le.Uint16(d[10:12])
	} else {
		width, height = int64(int32(le.Uint32(d[4:8]))), int64(int32(le.Uint32(d[8:12])))
		planes, bpp = le.Uint16(d[12:14]), le.Uint16(d[14:16])
		if dib >= 20 {
			compression = le.Uint32(d[16:20])
		}
	}
	if height < 0 { // a negative height stores the rows top-down
		height = -height
	}
	if planes != 1 {
		return 0, 0, fmt.Errorf("%d colour planes, the format has 1", planes)
	}
	valid := false
	switch compression {
	case biRGB:
		valid = bpp == 1 || bpp == 2 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32
	case biRLE8:
		valid = bpp == 8
	case biRLE4:
		valid = bpp == 4
	case biBitfields, biAlphaBitfields:
		valid = bpp == 16 || bpp == 24 || bpp == 32
	case biJPEG, biPNG:
		valid = bpp == 0
	default:
		return 0, 0, fmt.Errorf("compression method %d is none of the BMP format's (0 to 6)", compression)
	}
	if !valid {
		return 0, 0, fmt.Errorf("%d bits per pixel does not go with compression method %d", bpp, compression)
	}
	if width <= 0 || height <= 0 {
		return 0, 0, fmt.Errorf("it is %d×%d pixels", width, height)
	}
	if uint64(offBits) < bmpFileHeaderLen+uint64(dib) || uint64(offBits) >= uint64(len(data)) {
		return 0, 0, fmt.Errorf("its pixels start at byte %d, outside the %d-byte file after its headers", offBits, len(data))
	}
	if compression == biRGB || compression == biBitfields || compression == biAlphaBitfields {
		// Each row is padded to a multiple of 4 bytes.
		// row*height can overflow; compare by division instead.
		row := (int64(bpp)*width + 31) / 32 * 4
		if avail := int64(len(data)) - int64(offBits); row > avail/height {
			return 0, 0, fmt.Errorf("%d×%d pixels at %d bits per pixel do not fit in the %d bytes after byte %d",
				width, height, bpp, avail, offBits)
		}
	}
	return int(width), int(height), nil
}
