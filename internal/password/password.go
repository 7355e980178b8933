package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters (RFC 9106 §3.1).
type Params struct {
	Memory  uint32 // memory in KiB (m)
	Time    uint32 // passes over the memory (t)
	Threads uint8  // lanes (p)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // hash length in bytes
}

// Default is what Hash uses: the first of OWASP's equivalent argon2id
// settings (m=19 MiB, t=2, p=1), about 25 ms on one core of a current
// server. Storekey runs on two cores and verifies a password only at sign-in,
// which is throttled per email and per IP, so one lane per hash keeps two
// sign-ins in parallel and bounds memory at 19 MiB per concurrent sign-in
// (m=64 MiB from RFC 9106 §4 would triple that for little gain at this
// throttle). The 16-byte salt and 32-byte hash are RFC 9106's
// recommendations.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits Verify enforces on an encoded hash's parameters, so that a corrupt
// or hostile stored value cannot make a sign-in allocate gigabytes or spin.
const (
	maxMemory = 1 << 20 // KiB: 1 GiB
	maxTime   = 64
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 128
)

// ErrMalformed means an encoded hash is not an argon2id PHC string this
// package can verify.
var ErrMalformed = errors.New("password: malformed argon2id hash")

var b64 = base64.RawStdEncoding

// Hash returns the PHC-encoded argon2id hash of pw under Default, with a
// fresh random salt.
func Hash(pw string) (string, error) { return HashWith(pw, Default) }

// HashWith returns the PHC-encoded argon2id hash of pw under p.
func HashWith(pw string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	key := idKey(pw, salt, p)
	return encode(p, salt, key), nil
}

// Verify reports whether pw matches the encoded hash, comparing in constant
// time. A malformed encoding is ErrMalformed, never a panic.
func Verify(pw, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := idKey(pw, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// hashing bounds the argon2id computations running at once: each holds
// Memory KiB (19 MiB by default) for its duration, so a burst of sign-ins
// waits its turn instead of taking the server's memory with it. More than
// one per core would not finish any sooner.
var hashing = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// returning is set while a return of hashing memory is scheduled.
var returning atomic.Bool

// idKey runs argon2id, then has the memory it used given back to the
// operating system. The runtime would otherwise keep it until the heap
// next grew to a goal that the hash's 19 MiB had raised, which in a server
// whose own heap is a few MiB can be a long time: it showed as a resident
// size three times the steady one after every sign-in. The return is
// scheduled once for a burst of hashes, shortly after it.
func idKey(pw string, salt []byte, p Params) []byte {
	hashing <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	<-hashing
	if returning.CompareAndSwap(false, true) {
		time.AfterFunc(100*time.Millisecond, func() {
			returning.Store(false)
			debug.FreeOSMemory()
		})
	}
	return key
}

// NeedsRehash reports whether encoded was made with parameters other than
// Default (or cannot be read), so that the caller should store a new hash
// after the next successful Verify.
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != Default
}

func (p Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("password: memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("password: time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("password: threads must be at least 1")
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("password: salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("password: key length %d out of range", p.KeyLen)
	}
	return nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash" strictly: the
// parameters in that order, decimal without leading zeros or signs, and
// unpadded standard base64.
func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	// The base64 decoder skips CR and LF; refuse them so that only the
	// canonical encoding is accepted.
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || strings.ContainsAny(encoded, "\r\n") {
		return p, nil, nil, ErrMalformed
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok || v != strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformed
	}
	var vals [3]uint32
	for i, name := range []string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(kv[i], name)
		if !ok || s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
			return p, nil, nil, ErrMalformed
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n > math.MaxUint32 {
			return p, nil, nil, ErrMalformed
		}
		vals[i] = uint32(n)
	}
	if vals[2] > math.MaxUint8 {
		return p, nil, nil, ErrMalformed
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSalt || len(salt) > maxSalt {
		return p, nil, nil, ErrMalformed
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKey || len(key) > maxKey {
		return p, nil, nil, ErrMalformed
	}
	threads, saltLen, keyLen := uint8(vals[2]), uint32(len(salt)), uint32(len(key))
	p = Params{Memory: vals[0], Time: vals[1], Threads: threads, SaltLen: saltLen, KeyLen: keyLen}
	if p.check() != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
