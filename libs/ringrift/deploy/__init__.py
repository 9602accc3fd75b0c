"""Deploying the pipeline: generated manifests and the checks that keep them valid.

``kafkatopics`` writes Strimzi ``KafkaTopic`` resources from the topic registry;
``schemas`` and ``crds`` obtain the JSON schemas that ``validate`` checks every rendered
Kubernetes object against (Kubernetes itself, Strimzi, the Prometheus Operator and KEDA);
``validate`` also runs a server-side dry run against a real kube-apiserver
(:mod:`ringrift.localinfra.kubeapi`). ``ringrift deploy`` (``cli``) is the command.
"""
