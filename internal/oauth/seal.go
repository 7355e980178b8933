package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts the few secrets Storekey must be able to read back, such
// as the client secret that signs an app's webhooks (only its hash
// authenticates the client), with AES-256-GCM under a key derived from a
// server key. Sealed values name the server key they were sealed under, so
// that they still open after a new key becomes current, as long as the old
// one is kept in the configuration.
type Sealer struct {
	cur  string
	aead map[string]cipher.AEAD
}

// NewSealer returns a Sealer over the server keys; the last is current.
func NewSealer(keys []Key) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("oauth: a sealer needs at least one server key")
	}
	s := &Sealer{aead: map[string]cipher.AEAD{}}
	for _, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("storekey seal v1"))
		block, err := aes.NewCipher(m.Sum(nil))
		if err != nil {
			return nil, fmt.Errorf("oauth: sealer key %s: %w", k.ID, err)
		}
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("oauth: sealer key %s: %w", k.ID, err)
		}
		s.aead[k.ID] = g
		s.cur = k.ID
	}
	return s, nil
}

// Sealed is a value encrypted by a Sealer, with the id of the server key
// it was sealed under.
type Sealed struct {
	KeyID string
	Data  []byte // nonce followed by ciphertext and tag
}

// ErrUnsealable means a sealed value's key is no longer configured or the
// value was tampered with.
var ErrUnsealable = errors.New("sealed value cannot be opened")

// Seal encrypts plaintext under the current key. label binds the value to
// its use and owner (an app id): a value moved to another row fails to open.
func (s *Sealer) Seal(plaintext []byte, label string) Sealed {
	g := s.aead[s.cur]
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	_, _ = rand.Read(nonce)
	return Sealed{KeyID: s.cur, Data: g.Seal(nonce, nonce, plaintext, []byte(label))}
}

// Open decrypts a sealed value; ErrUnsealable if its key is unknown or it
// was not sealed with this label.
func (s *Sealer) Open(v Sealed, label string) ([]byte, error) {
	g, ok := s.aead[v.KeyID]
	if !ok || len(v.Data) < g.NonceSize() {
		return nil, ErrUnsealable
	}
	n := g.NonceSize()
	out, err := g.Open(nil, v.Data[:n], v.Data[n:], []byte(label))
	if err != nil {
		return nil, ErrUnsealable
	}
	return out, nil
}
