package main

import (
	"errors"
	"fmt"
	"strings"
)

func validate(req request) error {
	if req.Netns != "" && !strings.HasPrefix(req.Netns, "/") {
		return errors.New(`"netns" must be an absolute path`)
	}
	switch req.Op {
	case "", "exec":
		return validateExec(req)
	case "read":
		return nil
	case "apply":
		for i, s := range req.Steps {
			if err := s.validate(); err != nil {
				return fmt.Errorf("steps[%d] (%s): %w", i, s.Do, err)
			}
		}
		return nil
	case "probe":
		if req.Kind != "ipvlan" && req.Kind != "macvlan" {
			return fmt.Errorf(`"kind" must be "ipvlan" or "macvlan", not %q`, req.Kind)
		}
		return nil
	}
	return fmt.Errorf("unknown op %q", req.Op)
}

func validateExec(req request) error {
	switch {
	case req.File == "":
		return errors.New(`"file" is required`)
	case strings.ContainsRune(req.File, 0):
		return errors.New(`"file" contains a NUL byte`)
	case req.TimeoutMs < 0:
		return errors.New(`"timeoutMs" must not be negative`)
	}
	for _, a := range req.Args {
		if strings.ContainsRune(a, 0) {
			return errors.New(`"args" contain a NUL byte`)
		}
	}
	return nil
}
