package web

import "net/http"

type homeView struct {
	base
	Links []Link
}

// home says what this server is and where to go.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	u, _ := h.CurrentUser(r)
	h.render(w, r, http.StatusOK, "home", homeView{base: h.base(r, u), Links: h.opts.Links})
}
