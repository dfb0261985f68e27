package main

import (
	"net/http"

	"github.com/sessionkit/session"
)

// prefs are the visitor's preferences, stored under keyPrefs and applied on
// every page. An empty field means the default: the light theme, and the
// language the browser asks for.
type prefs struct {
	Theme string `json:"theme,omitempty"`
	Lang  string `json:"lang,omitempty"`
}

var themes = []string{"light", "dark"}

func validTheme(t string) bool {
	for _, v := range themes {
		if v == t {
			return true
		}
	}
	return false
}

func (p prefs) theme() string {
	if validTheme(p.Theme) {
		return p.Theme
	}
	return themes[0]
}

func (p prefs) language(r *http.Request) string {
	if supportedLanguage(p.Lang) {
		return p.Lang
	}
	return negotiateLanguage(r)
}

type prefsView struct {
	Themes  []string
	Invalid bool
}

// GET /preferences
func (a *app) prefsPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "prefs", "prefs.title", prefsView{Themes: themes})
}

// POST /preferences (theme, lang)
func (a *app) savePrefs(w http.ResponseWriter, r *http.Request) {
	p := prefs{Theme: r.PostFormValue("theme"), Lang: r.PostFormValue("lang")}
	if !validTheme(p.Theme) || !supportedLanguage(p.Lang) {
		a.render(w, r, http.StatusUnprocessableEntity, "prefs", "prefs.title", prefsView{Themes: themes, Invalid: true})
		return
	}
	if err := session.Put(r.Context(), keyPrefs, p); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "prefs.saved")
	redirect(w, r, "/preferences")
}
