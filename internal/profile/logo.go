package profile

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG for image.DecodeConfig
	_ "image/png"  // registers PNG for image.DecodeConfig
)

// MaxLogoBytes bounds an uploaded logo.
const MaxLogoBytes = 1 << 20

// CheckLogo checks that data is a PNG or JPEG image no larger than
// MaxLogoBytes and returns its format and size.
func CheckLogo(data []byte) (format string, size image.Point, err error) {
	if len(data) == 0 {
		return "", image.Point{}, fmt.Errorf("the logo is empty")
	}
	if len(data) > MaxLogoBytes {
		return "", image.Point{}, fmt.Errorf("the logo is %d bytes; at most %d are allowed", len(data), MaxLogoBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return "", image.Point{}, fmt.Errorf("the logo must be a PNG or JPEG image")
	}
	return format, image.Pt(cfg.Width, cfg.Height), nil
}

// CheckHyperSKULogo checks HyperSKU's registration requirement: a 110 x 110
// px PNG or JPEG logo.
func CheckHyperSKULogo(data []byte) error {
	_, size, err := CheckLogo(data)
	if err != nil {
		return err
	}
	if size != image.Pt(110, 110) {
		return fmt.Errorf("the logo is %d x %d px; HyperSKU apps need exactly 110 x 110 px", size.X, size.Y)
	}
	return nil
}
