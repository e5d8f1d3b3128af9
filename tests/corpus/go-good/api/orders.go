package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

type Order struct {
	ID       int64
	PublicID uuid.UUID
	Status   string
}

var client = &http.Client{Timeout: 5 * time.Second}

func Router(db *gorm.DB, key []byte) *gin.Engine {
	r := gin.New()
	origin, ok := os.LookupEnv("ALLOWED_ORIGIN")
	if !ok {
		origin = "https://app.example.com"
	}
	r.Use(cors.New(cors.Config{AllowOrigins: []string{origin}}))
	r.GET("/orders", requireUser(key), func(c *gin.Context) {
		size, err := strconv.Atoi(c.DefaultQuery("size", "50"))
		if err != nil || size > 100 {
			size = 50
		}
		var orders []Order
		if err := db.Order("id").Limit(size).Find(&orders).Error; err != nil {
			slog.Error("list orders", "err", err)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal_error"})
			return
		}
		c.JSON(http.StatusOK, orders)
	})
	r.GET("/orders/:id", requireUser(key), func(c *gin.Context) {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "bad_id"})
			return
		}
		var order Order
		if err := db.Where("public_id = ?", id).First(&order).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "not_found"})
			return
		}
		c.JSON(http.StatusOK, order)
	})
	admin := r.Group("/admin", requireAdmin(key))
	admin.DELETE("/orders/:id", func(c *gin.Context) {
		if err := db.Delete(&Order{}, "public_id = ?", c.Param("id")).Error; err != nil {
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal_error"})
			return
		}
		c.Status(http.StatusNoContent)
	})
	return r
}

func requireUser(key []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, err := jwt.Parse(c.GetHeader("Authorization"), func(t *jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods([]string{"HS256"}))
		if err != nil {
			slog.Info("rejected token", "path", c.FullPath(), "token_present", c.GetHeader("Authorization") != "")
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthorized"})
			return
		}
		c.Set("claims", token.Claims)
	}
}

func requireAdmin(key []byte) gin.HandlerFunc {
	user := requireUser(key)
	return func(c *gin.Context) {
		user(c)
		if claims, ok := c.Get("claims"); !ok || claims.(jwt.MapClaims)["role"] != "admin" {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "forbidden"})
		}
	}
}

func Notify(url string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	resp, err := client.Post(url, "application/json", bytesReader(body))
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return nil
}
