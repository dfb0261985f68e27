package frameworks_test

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Gin's handlers write to Gin's own writer, which a Gin middleware cannot
// hand to net/http middleware: the engine runs inside mgr.Handler instead.
// Handlers reach the session through c.Request.Context().
func Example_gin() {
	gin.SetMode(gin.ReleaseMode)
	mgr := newManager()
	engine := gin.New()
	engine.POST("/login", func(c *gin.Context) {
		if err := login(c.Request); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
		}
	})
	engine.POST("/cart", func(c *gin.Context) {
		if _, err := addToCart(c.Request); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
		}
	})
	engine.GET("/cart", func(c *gin.Context) {
		s, err := cart(c.Request)
		if err != nil {
			c.String(http.StatusServiceUnavailable, err.Error())
			return
		}
		c.String(http.StatusOK, s)
	})
	browse(mgr.Handler(engine))
	// Output: alice: apple, pear
}
