package web

import (
	"cmp"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/profile"
)

// signinFor is the sign-in page shown on the way to connecting an app: with
// a sign-up form, prefilled from the request, when the app's dialect offers
// one.
func (h *Handler) signinFor(r *http.Request, a *oauth.Authorization, next string) signin {
	v := signin{base: h.base(r, nil), Next: next, App: a.App}
	if h.appProfile(a.App).SignUp {
		v.SignUp = true
		v.AccountName = a.Prefill["account_name"]
		v.Location = a.Prefill["location_name"]
		v.Country = a.Prefill["country"]
	}
	return v
}

var (
	emailRE   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// signup creates a merchant account with its first store and location, signs
// the person in and sends them on to next (HubRise's "a person with no
// account can create one in a few simple steps").
func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	if !slices.ContainsFunc(h.opts.Profiles, func(p *profile.Profile) bool { return p.SignUp }) {
		http.NotFound(w, r) // no enabled dialect offers sign-up
		return
	}
	if !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	v := signin{
		base: h.base(r, nil), Next: localPath(f.Get("next")), SignUp: true,
		Email: strings.TrimSpace(f.Get("email")), AccountName: strings.TrimSpace(f.Get("account_name")),
		Location: strings.TrimSpace(f.Get("location_name")), Country: strings.ToUpper(strings.TrimSpace(f.Get("country"))),
	}
	ctx := r.Context()
	retry, err := h.throttle(ctx, "signup:ip:"+h.opts.ClientIP(r))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		h.message(w, r, http.StatusTooManyRequests, message{Heading: "Too many attempts", Text: "There were too many sign-up attempts. Try again later."})
		return
	}
	pw := f.Get("password")
	switch {
	case len(v.Email) > maxEmail || !emailRE.MatchString(v.Email):
		v.SignUpError = "Enter a valid email address."
	case len(pw) < 8 || len(pw) > 256:
		v.SignUpError = "Choose a password of 8 to 256 characters."
	case v.AccountName == "" || len(v.AccountName) > 100:
		v.SignUpError = "Enter your account's name (at most 100 characters)."
	case v.Location == "" || len(v.Location) > 100:
		v.SignUpError = "Enter your first location's name (at most 100 characters)."
	case v.Country != "" && !countryRE.MatchString(v.Country):
		v.SignUpError = "Enter the country as a two-letter code, such as FR."
	}
	if v.SignUpError != "" {
		h.render(w, r, http.StatusBadRequest, "signin", v)
		return
	}
	hash, err := password.Hash(pw)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	now := h.now()
	u := &oauth.User{ID: oauth.RandomID("usr_"), Email: v.Email, PasswordHash: hash, CreatedAt: now}
	if err := h.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, oauth.ErrConflict) {
			v.SignUpError = "An account with this email already exists: sign in instead."
			h.render(w, r, http.StatusConflict, "signin", v)
			return
		}
		h.serverError(w, r, err)
		return
	}
	// The slug must be unique: a short random tail keeps two "Bella Pizza"
	// accounts apart.
	slug := cmp.Or(oauth.Slugify(v.AccountName), "store")
	if len(slug) > 50 {
		slug = slug[:50]
	}
	s := &oauth.Store{ID: oauth.RandomID("sto_"), Name: v.AccountName, Slug: strings.ToLower(slug + "-" + oauth.RandomID("")[:6]), CreatedAt: now}
	s.Slug = oauth.Slugify(s.Slug)
	if err := h.st.CreateStore(ctx, s, u.ID); err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.st.CreateLocation(ctx, &oauth.Location{ID: oauth.RandomID("loc_"), StoreID: s.ID, Name: v.Location}); err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.startSession(ctx, w, r, u); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "signed up", "user_id", u.ID, "store_id", s.ID)
	h.redirect(w, r, cmp.Or(v.Next, "/"))
}
