package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sessionkit/session"
)

// The checkout is a form in three steps (address, delivery, payment) and a
// review. What each step posts is kept in the session under keyCheckout,
// whichever button was pressed, so going back and forth, or reloading,
// loses nothing. Done records the last step completed; a step can be
// opened only when the ones before it are done.
type checkoutState struct {
	Name       string `json:"name,omitempty"`
	Street     string `json:"street,omitempty"`
	Postcode   string `json:"postcode,omitempty"`
	City       string `json:"city,omitempty"`
	Country    string `json:"country,omitempty"`
	Delivery   string `json:"delivery,omitempty"`
	Notes      string `json:"notes,omitempty"`
	Payment    string `json:"payment,omitempty"`
	CardHolder string `json:"card_holder,omitempty"`
	Done       int    `json:"done,omitempty"` // 0 to 3
}

// deliveries are the delivery options and their fees in cents.
var deliveries = []option{{"standard", 490}, {"express", 990}, {"pickup", 0}}

var payments = []option{{"invoice", 0}, {"card", 0}}

type option struct {
	ID  string
	Fee int
}

func findOption(opts []option, id string) (option, bool) {
	for _, o := range opts {
		if o.ID == id {
			return o, true
		}
	}
	return option{}, false
}

// maxField bounds each text field kept in the session.
const maxField = 200

func field(r *http.Request, name string) string {
	v := strings.TrimSpace(r.PostFormValue(name))
	if len(v) > maxField {
		v = v[:maxField]
	}
	return v
}

// set copies the posted fields of step into s.
func (s *checkoutState) set(step int, r *http.Request) {
	switch step {
	case 1:
		s.Name, s.Street, s.Postcode, s.City, s.Country =
			field(r, "name"), field(r, "street"), field(r, "postcode"), field(r, "city"), field(r, "country")
	case 2:
		s.Delivery, s.Notes = field(r, "delivery"), field(r, "notes")
	case 3:
		s.Payment, s.CardHolder = field(r, "payment"), field(r, "card_holder")
	}
}

// copyStep copies the fields of step from src.
func (s *checkoutState) copyStep(step int, src checkoutState) {
	switch step {
	case 1:
		s.Name, s.Street, s.Postcode, s.City, s.Country = src.Name, src.Street, src.Postcode, src.City, src.Country
	case 2:
		s.Delivery, s.Notes = src.Delivery, src.Notes
	case 3:
		s.Payment, s.CardHolder = src.Payment, src.CardHolder
	}
}

// validate returns the message key of each invalid field of step.
func (s *checkoutState) validate(step int) map[string]string {
	errs := map[string]string{}
	required := func(name, v string) {
		if v == "" {
			errs[name] = "checkout.required"
		}
	}
	switch step {
	case 1:
		required("name", s.Name)
		required("street", s.Street)
		required("postcode", s.Postcode)
		required("city", s.City)
		required("country", s.Country)
	case 2:
		if _, ok := findOption(deliveries, s.Delivery); !ok {
			errs["delivery"] = "checkout.choose"
		}
	case 3:
		if _, ok := findOption(payments, s.Payment); !ok {
			errs["payment"] = "checkout.choose"
		}
		if s.Payment == "card" {
			required("card_holder", s.CardHolder)
		}
	}
	return errs
}

type checkoutView struct {
	Step       int
	State      checkoutState
	Errors     map[string]string
	Deliveries []option
	Payments   []option
	Lines      []line
	Subtotal   int
	Fee        int
	Total      int
}

// checkoutGuard lets a signed-in visitor with a non-empty cart open step
// (4 is the review) once the steps before it are done; otherwise it
// redirects and returns false.
func (a *app) checkoutGuard(w http.ResponseWriter, r *http.Request, step int) (checkoutState, cart, bool) {
	ctx := r.Context()
	if currentUser(r) == nil {
		a.toLogin(w, r, "/checkout/1")
		return checkoutState{}, nil, false
	}
	c, err := session.Get[cart](ctx, keyCart)
	if err != nil {
		a.fail(w, r, err)
		return checkoutState{}, nil, false
	}
	if c.count() == 0 {
		a.flashError(r, "checkout.empty")
		redirect(w, r, "/cart")
		return checkoutState{}, nil, false
	}
	s, err := session.Get[checkoutState](ctx, keyCheckout)
	if err != nil {
		a.fail(w, r, err)
		return checkoutState{}, nil, false
	}
	if s.Done < step-1 {
		redirect(w, r, "/checkout/"+strconv.Itoa(s.Done+1))
		return checkoutState{}, nil, false
	}
	return s, c, true
}

func (a *app) renderCheckout(w http.ResponseWriter, r *http.Request, status int, step int, s checkoutState, c cart, errs map[string]string) {
	v := checkoutView{Step: step, State: s, Errors: errs, Deliveries: deliveries, Payments: payments}
	v.Lines, v.Subtotal = c.lines()
	if d, ok := findOption(deliveries, s.Delivery); ok {
		v.Fee = d.Fee
	}
	v.Total = v.Subtotal + v.Fee
	name := "checkout" + strconv.Itoa(step)
	if step == 4 {
		name = "review"
	}
	a.render(w, r, status, name, "checkout.title", v)
}

// GET /checkout/{1,2,3}
func (a *app) checkoutStepPage(step int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, c, ok := a.checkoutGuard(w, r, step)
		if !ok {
			return
		}
		a.renderCheckout(w, r, http.StatusOK, step, s, c, nil)
	}
}

// POST /checkout/{1,2,3} (the step's fields, action=back|next): keep the
// fields, then go back, or on to the next step if they are valid.
func (a *app) checkoutStepSave(step int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, c, ok := a.checkoutGuard(w, r, step)
		if !ok {
			return
		}
		next := r.PostFormValue("action") != "back"
		var posted checkoutState
		posted.set(step, r)
		errs := posted.validate(step)
		s, err := session.Update(r.Context(), keyCheckout, func(s checkoutState) (checkoutState, error) {
			s.copyStep(step, posted)
			switch {
			case len(errs) > 0: // this step, and the ones after it, need doing again
				s.Done = min(s.Done, step-1)
			case next:
				s.Done = max(s.Done, step)
			}
			return s, nil
		})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		switch {
		case !next:
			redirect(w, r, "/checkout/"+strconv.Itoa(max(step-1, 1)))
		case len(errs) > 0:
			a.renderCheckout(w, r, http.StatusUnprocessableEntity, step, s, c, errs)
		case step == 3:
			redirect(w, r, "/checkout/review")
		default:
			redirect(w, r, "/checkout/"+strconv.Itoa(step+1))
		}
	}
}

// GET /checkout/review
func (a *app) reviewPage(w http.ResponseWriter, r *http.Request) {
	s, c, ok := a.checkoutGuard(w, r, 4)
	if !ok {
		return
	}
	a.renderCheckout(w, r, http.StatusOK, 4, s, c, nil)
}

// order is the confirmation of an order, shown once on /checkout/done.
type order struct {
	Number string `json:"number"`
	Items  int    `json:"items"`
	Total  int    `json:"total"`
}

// POST /checkout/confirm: place the order (the demo only pretends), empty
// the cart and the checkout, and show the confirmation once.
func (a *app) confirmOrder(w http.ResponseWriter, r *http.Request) {
	s, c, ok := a.checkoutGuard(w, r, 4)
	if !ok {
		return
	}
	for step := 1; step <= 3; step++ {
		if len(s.validate(step)) > 0 {
			redirect(w, r, "/checkout/"+strconv.Itoa(step))
			return
		}
	}
	ctx := r.Context()
	_, subtotal := c.lines()
	fee := 0
	if d, ok := findOption(deliveries, s.Delivery); ok {
		fee = d.Fee
	}
	o := order{Number: orderNumber(), Items: c.count(), Total: subtotal + fee}
	for _, err := range []error{
		session.Delete(ctx, keyCart),
		session.Delete(ctx, keyCheckout),
		session.Put(ctx, keyOrder, o),
	} {
		if err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.log.InfoContext(ctx, "order placed", "order", o.Number, "subject", session.Subject(ctx), "session", session.ID(ctx))
	redirect(w, r, "/checkout/done")
}

// GET /checkout/done: the confirmation, once (session.Pop); a reload goes
// back to the catalog.
func (a *app) orderPage(w http.ResponseWriter, r *http.Request) {
	o, err := session.Pop[order](r.Context(), keyOrder)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if o.Number == "" {
		redirect(w, r, "/")
		return
	}
	a.render(w, r, http.StatusOK, "order", "order.title", o)
}

// orderNumber returns a random order number such as SK-3F9A6C21.
func orderNumber() string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("SK-%X", b)
}
