module eni-operator/eni-cni

go 1.22
