package openapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesTheDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"openapi": "3.1`) || !strings.Contains(rec.Body.String(), "/api/items/{id}") {
		t.Fatalf("GET /openapi.json: %d %.200s", rec.Code, rec.Body.String())
	}
}
