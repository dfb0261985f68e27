package forwardauth

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// User is a signed-in user as the upstream sees it.
type User struct {
	Name   string
	Groups []string
	Email  string
}

// InGroup reports whether the user belongs to any of groups.
func (u *User) InGroup(groups ...string) bool {
	for _, g := range groups {
		if slices.Contains(u.Groups, g) {
			return true
		}
	}
	return false
}

// Users finds users by name and checks their passwords. Lookup runs on
// every check of a signed-in request, so a user removed from the directory
// loses access at their next request even with a live session;
// Authenticate runs on sign-in. Both must be safe for concurrent use.
// UserFile is the implementation most callers want.
type Users interface {
	Lookup(name string) (*User, bool)
	Authenticate(name, password string) (*User, bool)
}

// UserFile is a users file loaded in memory: one user a line,
//
//	name:hash[:groups[:email]]
//
// where hash is an argon2id hash in the PHC format (from HashPassword or
// "sessiond hash-password") or a bcrypt hash ($2a$, $2b$, $2y$, so an
// htpasswd file made with htpasswd -B works as it is), groups are
// comma-separated. Blank lines and lines starting with # are ignored.
// Names and groups hold letters, digits and ._@- only.
//
// A UserFile is safe for concurrent use.
type UserFile struct {
	users map[string]*fileUser
}

type fileUser struct {
	User
	hash *passwordHash
}

var _ Users = (*UserFile)(nil)

// LoadUsers reads a users file.
func LoadUsers(path string) (*UserFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("forwardauth: users file: %w", err)
	}
	return ParseUsers(bytes.NewReader(b), path)
}

// ParseUsers reads a users file from r; name is used in error messages.
func ParseUsers(r io.Reader, name string) (*UserFile, error) {
	f := &UserFile{users: map[string]*fileUser{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		u, err := parseUserLine(line)
		if err != nil {
			return nil, fmt.Errorf("forwardauth: %s:%d: %w", name, n, err)
		}
		if _, dup := f.users[u.Name]; dup {
			return nil, fmt.Errorf("forwardauth: %s:%d: user %q listed twice", name, n, u.Name)
		}
		f.users[u.Name] = u
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("forwardauth: %s: %w", name, err)
	}
	return f, nil
}

func parseUserLine(line string) (*fileUser, error) {
	fields := strings.Split(line, ":")
	if len(fields) < 2 || len(fields) > 4 {
		return nil, fmt.Errorf("want name:hash[:groups[:email]], got %d fields", len(fields))
	}
	u := &fileUser{User: User{Name: fields[0]}}
	if !validName(u.Name) {
		return nil, fmt.Errorf("user name %q: want letters, digits and ._@- only", u.Name)
	}
	h, err := parseHash(fields[1])
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", u.Name, err)
	}
	u.hash = h
	if len(fields) > 2 && fields[2] != "" {
		for _, g := range strings.Split(fields[2], ",") {
			if !validName(g) {
				return nil, fmt.Errorf("user %q: group %q: want letters, digits and ._@- only", u.Name, g)
			}
			u.Groups = append(u.Groups, g)
		}
	}
	if len(fields) > 3 {
		u.Email = fields[3]
		if strings.ContainsFunc(u.Email, func(r rune) bool { return r < 0x21 || r == 0x7f || r == ',' }) {
			return nil, fmt.Errorf("user %q: e-mail %q: spaces, commas or control characters", u.Name, u.Email)
		}
	}
	return u, nil
}

// validName reports whether s is a usable user or group name: it ends up
// in a header value and in comma-separated lists, so it is kept plain.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// ValidUserName reports whether name may be used in a users file.
func ValidUserName(name string) bool { return validName(name) }

// FormatUserLine returns the users-file line for a user with the given
// password hash.
func FormatUserLine(u User, hash string) string {
	line := u.Name + ":" + hash
	if len(u.Groups) > 0 || u.Email != "" {
		line += ":" + strings.Join(u.Groups, ",")
	}
	if u.Email != "" {
		line += ":" + u.Email
	}
	return line
}

// Lookup returns the user called name.
func (f *UserFile) Lookup(name string) (*User, bool) {
	u, ok := f.users[name]
	if !ok {
		return nil, false
	}
	c := u.User
	c.Groups = slices.Clone(u.Groups)
	return &c, true
}

// Authenticate returns the user called name if password is theirs. An
// unknown name costs as long as a wrong password.
func (f *UserFile) Authenticate(name, password string) (*User, bool) {
	u, ok := f.users[name]
	if !ok {
		f.dummyHash().check(password)
		return nil, false
	}
	if !u.hash.check(password) {
		return nil, false
	}
	return f.Lookup(name)
}

// Len returns the number of users.
func (f *UserFile) Len() int { return len(f.users) }

var (
	dummyOnce sync.Once
	dummy     *passwordHash
)

// dummyHash is an argon2id hash with HashPassword's parameters, checked
// (and the result ignored) for unknown names so they take as long.
func (f *UserFile) dummyHash() *passwordHash {
	dummyOnce.Do(func() {
		s, _ := HashPassword(string(make([]byte, 16)))
		dummy, _ = parseHash(s)
	})
	return dummy
}
