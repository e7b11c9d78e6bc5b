module eni-operator/eni-exec

go 1.22
