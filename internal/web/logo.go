package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

const (
	// maxLogoSide is the largest side a stored logo has: larger uploads are
	// scaled down to it.
	maxLogoSide = 256
	// maxLogoPixels refuses images whose decoding would take more memory
	// than a logo deserves (a small file can claim a huge canvas).
	maxLogoPixels = 4096 * 4096
)

// formLogo reads the "logo" file of a multipart form: nil and no problem
// when none was chosen; otherwise the checked, re-encoded logo, or a
// problem to show next to the field.
func (h *Handler) formLogo(r *http.Request, prof string) (*oauth.Logo, string) {
	if r.MultipartForm == nil {
		return nil, ""
	}
	f, hdr, err := r.FormFile("logo")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, ""
	}
	if err != nil {
		return nil, "The logo could not be read."
	}
	defer f.Close()
	if hdr.Size == 0 {
		return nil, ""
	}
	data, err := io.ReadAll(io.LimitReader(f, profile.MaxLogoBytes+1))
	if err != nil {
		return nil, "The logo could not be read."
	}
	l, err := processLogo(data, h.profiles[prof])
	if err != nil {
		return nil, err.Error()
	}
	l.UpdatedAt = h.now()
	return l, ""
}

// processLogo checks an uploaded logo against the general rules (PNG or
// JPEG, at most profile.MaxLogoBytes) and the profile's own (HyperSKU's
// exact 110 x 110 px), and re-encodes it in its format, scaled down to
// maxLogoSide if larger. Re-encoding drops whatever else the file carried
// (metadata, trailing data).
func processLogo(data []byte, p *profile.Profile) (*oauth.Logo, error) {
	format, size, err := profile.CheckLogo(data)
	if err != nil {
		return nil, problem("%s.", capitalize(err.Error()))
	}
	if size.X <= 0 || size.Y <= 0 || size.X*size.Y > maxLogoPixels {
		return nil, problem("The logo is %d x %d px; at most 4096 x 4096 px are accepted.", size.X, size.Y)
	}
	if p != nil && p.Logo != nil {
		if err := p.Logo(data); err != nil {
			return nil, problem("%s.", capitalize(err.Error()))
		}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, problem("The logo must be a PNG or JPEG image.")
	}
	if b := img.Bounds(); b.Dx() > maxLogoSide || b.Dy() > maxLogoSide {
		w, hgt := maxLogoSide, maxLogoSide
		if b.Dx() > b.Dy() {
			hgt = max(1, b.Dy()*maxLogoSide/b.Dx())
		} else {
			w = max(1, b.Dx()*maxLogoSide/b.Dy())
		}
		img = scaleDown(img, w, hgt)
	}
	var buf bytes.Buffer
	l := &oauth.Logo{Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	if format == "jpeg" {
		l.ContentType = "image/jpeg"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	} else {
		l.ContentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("encode logo: %w", err)
	}
	l.Data = buf.Bytes()
	return l, nil
}

// scaleDown resizes src to w x h (smaller) by averaging the source pixels
// each destination pixel covers, in premultiplied RGBA.
func scaleDown(src image.Image, w, h int) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		y0, y1 := b.Min.Y+y*b.Dy()/h, b.Min.Y+(y+1)*b.Dy()/h
		y1 = max(y1, y0+1)
		for x := range w {
			x0, x1 := b.Min.X+x*b.Dx()/w, b.Min.X+(x+1)*b.Dx()/w
			x1 = max(x1, x0+1)
			var r, g, bl, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			c := color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: uint16(a / n)}
			dst.Set(x, y, c)
		}
	}
	return dst
}

// logoProblem is what is wrong with an uploaded logo, as a sentence shown
// next to the form's field.
type logoProblem string

func (p logoProblem) Error() string { return string(p) }

func problem(format string, args ...any) error { return logoProblem(fmt.Sprintf(format, args...)) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// logo serves an app's uploaded logo with its content type. Logos are
// public: the consent page shows them to anyone an app sends there.
func (h *Handler) logo(w http.ResponseWriter, r *http.Request) {
	l, err := h.opts.Portal.Partners.Logo(r.Context(), r.PathValue("app"))
	if errors.Is(err, oauth.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", l.ContentType)
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("ETag", `"`+strconv.FormatInt(l.UpdatedAt.UnixMicro(), 36)+`"`)
	http.ServeContent(w, r, "", l.UpdatedAt.Truncate(time.Second), bytes.NewReader(l.Data))
}

// logoPath is the LogoURL of an app whose logo was uploaded: the local
// path it is served at, versioned so that a new logo is fetched anew.
func logoPath(appID string, updated time.Time) string {
	return "/logos/" + url.PathEscape(appID) + "?v=" + strconv.FormatInt(updated.UnixMicro(), 36)
}

// logoURL is where a page finds the app's logo: the uploaded one (a local
// /logos/ path), an https URL registered through the CLI, or none.
func (h *Handler) logoURL(_ context.Context, a *oauth.App) string {
	if strings.HasPrefix(a.LogoURL, "/logos/") || strings.HasPrefix(a.LogoURL, "https://") {
		return a.LogoURL
	}
	return ""
}
