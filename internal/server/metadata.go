package server

import (
	"net/http"

	"github.com/storekey/storekey/internal/oauth"
)

// Metadata is the authorization server metadata document (RFC 8414 §2).
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation                       string   `json:"service_documentation,omitempty"`
}

func (s *Server) metadata() Metadata {
	cfg := s.svc.Config()
	iss := cfg.Issuer
	pkce := []string{oauth.PKCES256}
	if cfg.AllowPlainPKCE {
		pkce = append(pkce, oauth.PKCEPlain)
	}
	return Metadata{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + "/oauth/authorize",
		TokenEndpoint:                              iss + "/oauth/token",
		RevocationEndpoint:                         iss + "/oauth/revoke",
		IntrospectionEndpoint:                      iss + "/oauth/introspect",
		ScopesSupported:                            cfg.Scopes.Names(),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "none"},
		RevocationEndpointAuthMethodsSupported:     []string{"client_secret_basic", "client_secret_post", "none"},
		IntrospectionEndpointAuthMethodsSupported:  []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:              pkce,
		AuthorizationResponseIssParameterSupported: true,
		ServiceDocumentation:                       s.opts.DocsURL,
	}
}

// wellKnown serves GET /.well-known/oauth-authorization-server (RFC 8414 §3).
func (s *Server) wellKnown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.metadataJSON)
}
