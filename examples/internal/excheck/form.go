package excheck

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// writeForm writes curl -F arguments as multipart parts; "@-" stands for
// stdin bytes of zeros.
func writeForm(mw *multipart.Writer, form []string, stdin int) error {
	for _, f := range form {
		spec, opts, _ := strings.Cut(f, ";")
		name, value, _ := strings.Cut(spec, "=")
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf("form-data; name=%q", name)
		for opt := range strings.SplitSeq(opts, ";") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "filename":
				disp += fmt.Sprintf("; filename=%q", v)
				h.Set("Content-Type", "application/octet-stream")
			case "type":
				h.Set("Content-Type", v)
			}
		}
		h.Set("Content-Disposition", disp)
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		var src io.Reader = strings.NewReader(value)
		if value == "@-" {
			src = io.LimitReader(zeros{}, int64(stdin))
		}
		if _, err := io.Copy(w, src); err != nil {
			return err
		}
	}
	return mw.Close()
}

// zeros reads as an endless run of zero bytes, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
