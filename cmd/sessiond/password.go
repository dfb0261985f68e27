package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sessionkit/session/forwardauth"
)

// hashPassword is "sessiond hash-password": it reads one password line on
// stdin and prints its argon2id hash.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sessiond hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sessiond hash-password < password\n\nReads a password on stdin and prints its argon2id hash, for a users file.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("hash-password: takes no arguments; the password comes on stdin")
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := forwardauth.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}

// addUser is "sessiond add-user": it hashes a password read on stdin and
// appends the user to a users file, creating it (mode 0600) if needed.
func addUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sessiond add-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("users", "users.txt", "users `file` to add to")
	groups := fs.String("groups", "", "comma-separated `groups`")
	email := fs.String("email", "", "e-mail `address`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sessiond add-user [flags] NAME < password\n\nAdds a user to a users file, with the argon2id hash of the password read on stdin.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("add-user: want one user name")
	}
	u := forwardauth.User{Name: fs.Arg(0), Email: *email}
	if *groups != "" {
		u.Groups = strings.Split(*groups, ",")
	}
	existing, err := os.ReadFile(*file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := forwardauth.HashPassword(pw)
	if err != nil {
		return err
	}
	line := forwardauth.FormatUserLine(u, hash)
	// Validate the new file as a whole (name, groups, duplicates) before
	// writing anything.
	next := string(existing)
	if next != "" && !strings.HasSuffix(next, "\n") {
		next += "\n"
	}
	next += line + "\n"
	if _, err := forwardauth.ParseUsers(strings.NewReader(next), *file); err != nil {
		return fmt.Errorf("add-user: %w", err)
	}
	f, err := os.OpenFile(*file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if len(existing) > 0 && existing[len(existing)-1] != '\n' {
		line = "\n" + line
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s to %s\n", u.Name, *file)
	return nil
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}
