package server

import (
	"context"
	"errors"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// NewValidator returns a resource.Validator that validates tokens in
// process, through the service (and its cache), for the sample API and any
// handler mounted beside it.
func NewValidator(svc *oauth.Service) resource.Validator {
	return resource.ValidatorFunc(func(ctx context.Context, token string) (*resource.Principal, error) {
		info, err := svc.Validate(ctx, token)
		if err != nil {
			var e *oauth.Error
			if errors.As(err, &e) && e.Code == oauth.ErrInvalidToken {
				return nil, resource.ErrInvalidToken
			}
			return nil, err
		}
		return Principal(info), nil
	})
}

// Principal converts a token record to the resource package's view of it.
func Principal(info *oauth.TokenInfo) *resource.Principal {
	p := &resource.Principal{
		Active:    true,
		AppID:     info.AppID,
		StoreID:   info.StoreID,
		UserID:    info.UserID,
		GrantID:   info.GrantID,
		Scopes:    info.Scopes,
		ExpiresAt: info.ExpiresAt,
	}
	if info.Grant != nil {
		p.LocationID = info.Grant.Bound.LocationID
		p.CatalogID = info.Grant.Bound.CatalogID
		p.CustomerListID = info.Grant.Bound.CustomerListID
	}
	return p
}
