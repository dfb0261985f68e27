package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestCartBounds: an item beyond a line's bound is refused with 409 and
// says so, on the page and in the API, and the cart stays as it was.
func TestCartBounds(t *testing.T) {
	in := start(t, "-store", "memory:")
	c := newClient(t, in.URL)
	for range maxQty {
		c.addToCart("tea")
	}
	c.addToCart("mug")
	r := c.post("/cart/add", url.Values{"product": {"tea"}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, `id="flash" class="flash error"`, "Not added: your cart already holds 99 of this product", `id="line-tea"`)
	wantNoBody(t, r, "Added to your cart.")
	if got := c.cartOf(); got["tea"] != strconv.Itoa(maxQty) || got["mug"] != "1" {
		t.Fatalf("cart after the refusal: %v, want tea:%d mug:1", got, maxQty)
	}
	// The refusal did not eat the next page's message, and the cart still
	// takes other products.
	c.addToCart("pen")
	if got := c.cartOf(); got["pen"] != "1" {
		t.Fatalf("cart: %v", got)
	}
	// In French too.
	c.post("/preferences", url.Values{"theme": {"light"}, "lang": {"fr"}})
	c.get("/")
	r = c.post("/cart/add", url.Values{"product": {"tea"}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "Rien n&#39;a été ajouté")

	// The API: 409 with the reason in JSON.
	resp := apiLogin(t, in, "bob", "builder")
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	add := func(product string) (int, string) {
		body, _ := json.Marshal(map[string]string{"product": product})
		req, _ := http.NewRequest("POST", in.URL+"/api/cart/add", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for i := range maxQty {
		if status, body := add("notebook"); status != http.StatusOK {
			t.Fatalf("API add %d: status %d: %s", i+1, status, body)
		}
	}
	status, body := add("notebook")
	var apiErr apiError
	if err := json.Unmarshal([]byte(body), &apiErr); status != http.StatusConflict || err != nil || apiErr.Error == "" {
		t.Fatalf("API add beyond the bound: status %d, body %s; want 409 with an error", status, body)
	}
	if _, me := apiGet(t, in, "/api/me", login.Token); !bytes.Contains([]byte(me), []byte(fmt.Sprintf(`{"id":"notebook","qty":%d}`, maxQty))) {
		t.Fatalf("/api/me after the refusal: %s", me)
	}
	if status, _ := add("nope"); status != http.StatusBadRequest {
		t.Errorf("API add of an unknown product: status %d, want 400", status)
	}
	req, _ := http.NewRequest("POST", in.URL+"/api/cart/add", bytes.NewReader([]byte(`{"product":"tea"}`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API add without a token: status %d, want 401", resp.StatusCode)
	}
}

// TestCartAdd: the bounds of cart.add, which the five products of the
// catalog cannot reach for lines.
func TestCartAdd(t *testing.T) {
	var c cart
	for i := range maxLines {
		var err error
		if c, err = c.add(fmt.Sprint("p", i)); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	full := c
	if got, err := c.add("one-more"); !errors.Is(err, errCartFull) || len(got) != maxLines {
		t.Fatalf("line %d: %v, %d lines; want errCartFull and the cart unchanged", maxLines+1, err, len(got))
	}
	// More of a product already in a full cart is fine.
	if got, err := full.add("p0"); err != nil || got[0].Qty != 2 {
		t.Fatalf("more of p0 in a full cart: %v, %v", got, err)
	}
	line := cart{{ID: "tea", Qty: maxQty}}
	if got, err := line.add("tea"); !errors.Is(err, errLineFull) || got[0].Qty != maxQty {
		t.Fatalf("tea beyond %d: %v, %v; want errLineFull and the cart unchanged", maxQty, got, err)
	}
	if full[0].Qty != 1 {
		t.Fatal("add changed its receiver")
	}
}
