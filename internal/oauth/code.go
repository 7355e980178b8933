package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Authorization codes are sealed: the code carries its own bindings (app,
// store, merchant and the session they approved in, redirect_uri, scopes,
// PKCE challenge, picked resources, expiry), encrypted and authenticated
// under a key derived from a server key, so that issuing one writes
// nothing. The database learns of a code when it is redeemed: RedeemCode
// inserts it, used, in the transaction that stores its grant, and the
// code's primary key lets one redemption win. A code presented again opens,
// fails to insert, and is a replay. The redemption also requires the
// approving session to still exist: a session's hash is in the database
// only, so that whoever holds a server key but not the database cannot make
// a code that redeems.
//
// The value is PrefixCode, then base64url of: the server key's id (its
// length in one byte, then the id), 16 random bytes (the code's 128 bits of
// randomness), and the bindings sealed with AES-256-GCM under a key and
// nonce of this code's own, HMAC-SHA512 of those bytes under a key derived
// from the server key. No count of codes sealed under one server key comes
// near a limit, as one AES key with random 96-bit nonces (Sealer's) would
// after 2^32 of them.
//
// Codes shown to the merchant to type (out of band) are short random values
// stored when issued instead (Storage.CreateCode); both kinds redeem the
// same way.

// codeAAD binds the ciphertext to its use and to this layout.
const codeAAD = "storekey authorization code v1"

// codeSaltSize is the size of the random bytes each code's key derives
// from.
const codeSaltSize = 16

// newCodeKeys derives the key each server key's codes derive theirs from.
func newCodeKeys(keys []Key) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	for _, k := range keys {
		if len(k.ID) == 0 || len(k.ID) > 255 {
			return nil, fmt.Errorf("oauth: server key id %q must be 1 to 255 bytes", k.ID)
		}
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte(codeAAD))
		out[k.ID] = m.Sum(nil)
	}
	return out, nil
}

// codeAEAD returns the AES-256-GCM of one code and its nonce: HMAC-SHA512
// of the code's salt under base gives both.
func codeAEAD(base, salt []byte) (cipher.AEAD, []byte) {
	m := hmac.New(sha512.New, base)
	m.Write(salt)
	sum := m.Sum(nil)
	block, err := aes.NewCipher(sum[:32])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g, sum[32 : 32+g.NonceSize()]
}

// sealCode returns the value of a sealed code carrying c's bindings.
func (s *Service) sealCode(c *Code) string {
	p := []byte{1} // layout version
	scopes, session := c.Scopes.String(), string(c.SessionHash)
	for _, f := range codeFields(c, &scopes, &session) {
		p = binary.AppendUvarint(p, uint64(len(*f)))
		p = append(p, *f...)
	}
	p = binary.AppendVarint(p, c.CreatedAt.UnixMicro())
	p = binary.AppendVarint(p, c.ExpiresAt.UnixMicro())

	b := make([]byte, 0, 1+len(s.cur)+codeSaltSize+len(p)+16)
	b = append(b, byte(len(s.cur)))
	b = append(b, s.cur...)
	salt := len(b)
	b = b[:salt+codeSaltSize]
	_, _ = rand.Read(b[salt:]) // crypto/rand.Read never fails (Go 1.24+)
	a, nonce := codeAEAD(s.codeKeys[s.cur], b[salt:])
	b = a.Seal(b, nonce, p, []byte(codeAAD))
	return PrefixCode + enc.EncodeToString(b)
}

// errNotSealed means a value is not a sealed code this server can open: a
// stored code, or a forgery, or a code sealed under a key no longer held.
var errNotSealed = errors.New("not a sealed code")

// openCode returns the bindings a sealed code carries, with its Hash set;
// errNotSealed if it is not one.
func (s *Service) openCode(value string) (*Code, error) {
	raw, ok := strings.CutPrefix(value, PrefixCode)
	if !ok || len(raw) > 4096 {
		return nil, errNotSealed
	}
	b, err := enc.DecodeString(raw)
	if err != nil || len(b) < 1 || len(b) < 1+int(b[0]) {
		return nil, errNotSealed
	}
	base, ok := s.codeKeys[string(b[1:1+b[0]])]
	b = b[1+b[0]:]
	if !ok || len(b) < codeSaltSize+16 {
		return nil, errNotSealed
	}
	a, nonce := codeAEAD(base, b[:codeSaltSize])
	p, err := a.Open(nil, nonce, b[codeSaltSize:], []byte(codeAAD))
	if err != nil || len(p) < 1 || p[0] != 1 {
		return nil, errNotSealed
	}
	d := codeDecoder{b: p[1:]}
	c := &Code{Hash: Hash(value)}
	var scopes, session string
	for _, f := range codeFields(c, &scopes, &session) {
		*f = d.string()
	}
	c.Scopes, c.SessionHash = ParseScopes(scopes), []byte(session)
	c.CreatedAt, c.ExpiresAt = d.time(), d.time()
	if d.bad || len(d.b) != 0 || len(c.SessionHash) != sha256.Size {
		// Authentic but not what sealCode makes: only a server bug, or
		// someone holding a server key, could seal this.
		return nil, errNotSealed
	}
	return c, nil
}

// codeFields are the text fields of a sealed code, in their order: c's,
// with its scopes and session hash as the strings given.
func codeFields(c *Code, scopes, session *string) []*string {
	return []*string{&c.AppID, &c.StoreID, &c.UserID, &c.RedirectURI, scopes, &c.Challenge, &c.ChallengeMethod,
		&c.Bound.LocationID, &c.Bound.CatalogID, &c.Bound.CustomerListID, &c.Bound.DeviceID, session}
}

// codeDecoder reads the fields sealCode appends; bad records any overrun.
type codeDecoder struct {
	b   []byte
	bad bool
}

func (d *codeDecoder) string() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.bad = true
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *codeDecoder) time() time.Time {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.bad = true
		return time.Time{}
	}
	d.b = d.b[k:]
	return time.UnixMicro(v).UTC()
}
