package zmq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// The seed's broker: a frontend for clients and a backend for workers. ebbroker binds
// tcp://*:5555 and tcp://*:5556; the examples take free local ports.
func ExampleBroker() {
	broker, err := zmq.NewBroker(zmq.BrokerOptions{
		Frontend: "tcp://127.0.0.1:*",
		Backend:  "tcp://127.0.0.1:*",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- broker.Run(ctx) }()

	// A worker and a client, to see it serve.
	worker := zmq.NewWorker(broker.Backend(), "echo", zmq.WorkerOptions{})
	go worker.Serve(ctx, func(_ context.Context, request [][]byte) [][]byte { return request })
	client, err := zmq.NewClient(broker.Frontend(), zmq.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	reply, err := client.Request(ctx, "echo", []byte("hello"))
	fmt.Printf("%s %v\n", reply[0], err)

	stop()
	fmt.Println("broker stopped:", <-done)
	// Output:
	// hello <nil>
	// broker stopped: <nil>
}

// The seed's client: send a request to validate.content with a JSON body and get its
// response. The default timeout is 1000 ms per attempt.
func ExampleClient_RequestJSON() {
	broker, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go broker.Run(ctx)
	type check struct {
		URI   string `json:"uri"`
		Valid bool   `json:"valid"`
	}
	worker := zmq.NewWorker(broker.Backend(), "validate.content", zmq.WorkerOptions{})
	go worker.Serve(ctx, zmq.HandleJSON(func(_ context.Context, req check) (check, error) {
		req.Valid = true
		return req, nil
	}))

	client, err := zmq.NewClient(broker.Frontend(), zmq.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	var response map[string]any
	err = client.RequestJSON(ctx, "validate.content",
		map[string]any{"uri": "http://www.encodingbooth.com/test.bin"}, &response)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(response)
	// Output:
	// map[uri:http://www.encodingbooth.com/test.bin valid:true]
}

// The seed's worker, in its loop style: each Recv sends the reply to the previous
// request and returns the next one. This video.cut worker echoes the request back
// after setting its status.
func ExampleWorker_RecvJSON() {
	broker, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go broker.Run(ctx)

	worker := zmq.NewWorker(broker.Backend(), "video.cut", zmq.WorkerOptions{})
	defer worker.Close()
	go func() {
		var reply any
		for {
			var request map[string]any
			if err := worker.RecvJSON(ctx, reply, &request); err != nil {
				return // the worker was stopped
			}
			request["status"] = 1
			reply = request // echo the request back to the client after modifying it
		}
	}()

	client, err := zmq.NewClient(broker.Frontend(), zmq.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	var response map[string]any
	if err := client.RequestJSON(ctx, "video.cut", map[string]any{"file": "intro.mp4", "at": 12.5}, &response); err != nil {
		log.Fatal(err)
	}
	fmt.Println(response)
	// Output:
	// map[at:12.5 file:intro.mp4 status:1]
}

// Service discovery: mmi.<name> asks whether a worker is around to handle <name>.
// The answer's frames are the name and "200" (or "404"); Discover asks the same with
// RFC 8's mmi.service.
func ExampleClient_Discover() {
	broker, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go broker.Run(ctx)
	client, err := zmq.NewClient(broker.Frontend(), zmq.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	found, err := client.Discover(ctx, "validate.content")
	fmt.Println("before the worker:", found, err)

	worker := zmq.NewWorker(broker.Backend(), "validate.content", zmq.WorkerOptions{})
	go worker.Serve(ctx, func(_ context.Context, request [][]byte) [][]byte { return request })
	// A request waits in the broker's queue until the worker has registered.
	if _, err := client.Request(ctx, "validate.content", []byte("ping")); err != nil {
		log.Fatal(err)
	}
	found, err = client.Discover(ctx, "validate.content")
	fmt.Println("after:", found, err)

	response, err := client.Request(ctx, "mmi.validate.content")
	if err != nil {
		log.Fatal(err)
	}
	if string(response[1]) == "200" {
		fmt.Printf("someone is around to handle %s\n", response[0])
	}
	// Output:
	// before the worker: false <nil>
	// after: true <nil>
	// someone is around to handle validate.content
}
