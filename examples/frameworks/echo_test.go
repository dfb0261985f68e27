package frameworks_test

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Echo adapts net/http middleware with echo.WrapMiddleware, which hands the
// wrapped writer and request on to Echo's context.
func Example_echo() {
	mgr := newManager()
	e := echo.New()
	e.HideBanner = true
	e.Use(echo.WrapMiddleware(mgr.Handler))
	e.POST("/login", func(c echo.Context) error { return login(c.Request()) })
	e.POST("/cart", func(c echo.Context) error {
		_, err := addToCart(c.Request())
		return err
	})
	e.GET("/cart", func(c echo.Context) error {
		s, err := cart(c.Request())
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
		}
		return c.String(http.StatusOK, s)
	})
	browse(e)
	// Output: alice: apple, pear
}
