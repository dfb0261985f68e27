package cookiestore

// MaxChunks is the largest number of cookies one value may be split into.
const MaxChunks = 8
