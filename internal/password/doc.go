// Package password hashes and verifies merchant passwords with argon2id
// (RFC 9106), stored in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash, unpadded standard base64).
//
// It imports the standard library and golang.org/x/crypto/argon2 only, and
// knows nothing of users, storage or HTTP.
package password
