package main

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/sessionkit/session"
)

// product is an item of the catalog. Its name and description are message
// keys: product.<ID>.name and product.<ID>.desc.
type product struct {
	ID    string
	Price int // euro cents
}

func (p product) NameKey() string { return "product." + p.ID + ".name" }
func (p product) DescKey() string { return "product." + p.ID + ".desc" }

var products = []product{
	{ID: "tea", Price: 850},
	{ID: "mug", Price: 1200},
	{ID: "notebook", Price: 650},
	{ID: "pen", Price: 2400},
	{ID: "tote", Price: 1500},
}

func findProduct(id string) (product, bool) {
	for _, p := range products {
		if p.ID == id {
			return p, true
		}
	}
	return product{}, false
}

// maxQty bounds one line of the cart, and maxLines the cart, so that a
// script cannot grow a session without bound.
const (
	maxQty   = 99
	maxLines = 20
)

// cart is the session's cart, stored under keyCart. It is a value: the
// methods return a new cart and leave the receiver alone, as the functions
// passed to session.Update must (they may run more than once).
type cart []cartLine

type cartLine struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

func (c cart) count() int {
	n := 0
	for _, l := range c {
		n += l.Qty
	}
	return n
}

// Why add refuses an item; the cart is then left as it was.
var (
	errLineFull = errors.New("the cart holds " + strconv.Itoa(maxQty) + " of this product, the most one line may")
	errCartFull = errors.New("the cart holds " + strconv.Itoa(maxLines) + " different products, the most it may")
)

// add returns c with one more of product id, or an error (errLineFull,
// errCartFull) and c unchanged when a bound would be passed: a shop never
// says it added what it did not.
func (c cart) add(id string) (cart, error) {
	out := make(cart, 0, len(c)+1)
	found := false
	for _, l := range c {
		if l.ID == id {
			if l.Qty >= maxQty {
				return c, errLineFull
			}
			l.Qty++
			found = true
		}
		out = append(out, l)
	}
	if !found {
		if len(out) >= maxLines {
			return c, errCartFull
		}
		out = append(out, cartLine{ID: id, Qty: 1})
	}
	return out, nil
}

func (c cart) remove(id string) cart {
	out := make(cart, 0, len(c))
	for _, l := range c {
		if l.ID != id {
			out = append(out, l)
		}
	}
	return out
}

// line is a cart line as pages show it.
type line struct {
	Product product
	Qty     int
	Total   int // cents
}

// lines resolves the cart against the catalog; products that left the
// catalog are skipped.
func (c cart) lines() (lines []line, total int) {
	for _, l := range c {
		p, ok := findProduct(l.ID)
		if !ok {
			continue
		}
		lines = append(lines, line{Product: p, Qty: l.Qty, Total: p.Price * l.Qty})
		total += p.Price * l.Qty
	}
	return lines, total
}

// GET /: the catalog.
func (a *app) catalogPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("signed_out") && session.Subject(r.Context()) == "" {
		a.renderMessage(w, r, http.StatusOK, "catalog", "catalog.title", products, &flash{Key: "flash.signed_out"})
		return
	}
	a.render(w, r, http.StatusOK, "catalog", "catalog.title", products)
}

type cartView struct {
	Lines []line
	Total int
}

// GET /cart
func (a *app) cartPage(w http.ResponseWriter, r *http.Request) {
	c, err := session.Get[cart](r.Context(), keyCart)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	lines, total := c.lines()
	a.render(w, r, http.StatusOK, "cart", "cart.title", cartView{Lines: lines, Total: total})
}

var errUnknownProduct = errors.New("unknown product")

// POST /cart/add (product=ID): one more of a product. session.Update makes
// it atomic: two tabs adding at once both land. An anonymous visitor gets a
// session here, and session.Login keeps the cart when they sign in. Past a
// bound (maxQty of a product, maxLines products) nothing is added, and the
// answer says so: 409 Conflict with the cart page and the reason.
func (a *app) cartAdd(w http.ResponseWriter, r *http.Request) {
	p, ok := findProduct(r.PostFormValue("product"))
	if !ok {
		http.Error(w, errUnknownProduct.Error(), http.StatusBadRequest)
		return
	}
	_, err := session.Update(r.Context(), keyCart, func(c cart) (cart, error) { return c.add(p.ID) })
	if err == nil {
		// Commit now: a concurrent addition in another tab may fill the
		// line first, and the replay of add on its cart refuses then.
		err = session.Commit(r.Context())
	}
	if errors.Is(err, errLineFull) || errors.Is(err, errCartFull) {
		a.cartRefused(w, r, err)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "flash.added")
	redirect(w, r, backTo(r, "/"))
}

// cartRefused answers an addition the cart bounds refused: 409 with the
// cart as it is and why nothing was added.
func (a *app) cartRefused(w http.ResponseWriter, r *http.Request, err error) {
	c, gerr := session.Get[cart](r.Context(), keyCart)
	if gerr != nil {
		a.fail(w, r, gerr)
		return
	}
	msg := &flash{Key: "cart.line_full", Args: []string{strconv.Itoa(maxQty)}, Kind: "error"}
	if errors.Is(err, errCartFull) {
		msg = &flash{Key: "cart.full", Args: []string{strconv.Itoa(maxLines)}, Kind: "error"}
	}
	lines, total := c.lines()
	a.renderMessage(w, r, http.StatusConflict, "cart", "cart.title", cartView{Lines: lines, Total: total}, msg)
}

// POST /cart/remove (product=ID): drop a line.
func (a *app) cartRemove(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("product")
	if _, err := session.Update(r.Context(), keyCart, func(c cart) (cart, error) { return c.remove(id), nil }); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "flash.removed")
	redirect(w, r, "/cart")
}

// backTo returns the form's "back" field if it is a path of this site.
func backTo(r *http.Request, fallback string) string {
	if b := r.PostFormValue("back"); b != "" {
		return safeNext(b)
	}
	return fallback
}
