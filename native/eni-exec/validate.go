package main

import (
	"errors"
	"strings"
)

func validate(req request) error {
	switch {
	case req.File == "":
		return errors.New(`"file" is required`)
	case strings.ContainsRune(req.File, 0):
		return errors.New(`"file" contains a NUL byte`)
	case req.TimeoutMs < 0:
		return errors.New(`"timeoutMs" must not be negative`)
	case req.Netns != "" && !strings.HasPrefix(req.Netns, "/"):
		return errors.New(`"netns" must be an absolute path`)
	}
	for _, a := range req.Args {
		if strings.ContainsRune(a, 0) {
			return errors.New(`"args" contain a NUL byte`)
		}
	}
	return nil
}
